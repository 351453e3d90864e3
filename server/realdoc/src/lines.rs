//! Byte-offset helpers over whole lines. Offsets always sit on line boundaries or ASCII bytes, so
//! slicing never splits a UTF-8 character.

/// The file's line ending: CRLF when its first line ends with `\r\n`, else LF.
pub(crate) fn detect_eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Start of the line containing `byte`.
pub(crate) fn line_start(text: &str, byte: usize) -> usize {
    text[..byte].rfind('\n').map_or(0, |i| i + 1)
}

/// End of the line containing `byte`, just past its `\n` (or the end of the text).
pub(crate) fn line_end(text: &str, byte: usize) -> usize {
    text[byte..].find('\n').map_or(text.len(), |i| byte + i + 1)
}

/// Number of lines: `""` has 0, `"a\n"` has 1, `"a\nb"` has 2.
pub(crate) fn line_count(text: &str) -> usize {
    let newlines = text.bytes().filter(|&b| b == b'\n').count();
    if text.is_empty() || text.ends_with('\n') {
        newlines
    } else {
        newlines + 1
    }
}

/// Byte offset where 1-based line `n` starts, if the text has that line.
pub(crate) fn nth_line_start(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let mut start = 0;
    for _ in 1..n {
        start = text[start..].find('\n').map(|i| start + i + 1)?;
    }
    (start < text.len()).then_some(start)
}

/// 1-based line and 0-based byte column of a byte offset.
pub(crate) fn position(text: &str, byte: usize) -> (usize, usize) {
    let line = jingu_syntax::line_of(text, byte);
    (line, byte - line_start(text, byte))
}

/// The line's text without its line ending.
pub(crate) fn line_text(text: &str, byte: usize) -> &str {
    let start = line_start(text, byte);
    text[start..line_end(text, byte)].trim_end_matches(['\n', '\r'])
}

/// Leading spaces and tabs.
pub(crate) fn indent_of(line: &str) -> &str {
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..n]
}

pub(crate) fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Length of the line ending that ends just before `byte` (0 at the start of the text).
pub(crate) fn eol_len_before(text: &str, byte: usize) -> usize {
    let b = &text.as_bytes()[..byte];
    match b {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] => 1,
        _ => 0,
    }
}

/// Consecutive blank lines ending just before `byte` (a line start), and where they begin.
pub(crate) fn blank_lines_before(text: &str, byte: usize) -> (usize, usize) {
    let mut count = 0;
    let mut at = byte;
    while at > 0 {
        let prev = line_start(text, at - 1);
        if !is_blank(&text[prev..at]) {
            break;
        }
        count += 1;
        at = prev;
    }
    (count, at)
}

/// Consecutive blank lines starting at `byte` (a line start), and where they end.
pub(crate) fn blank_lines_after(text: &str, byte: usize) -> (usize, usize) {
    let mut count = 0;
    let mut at = byte;
    while at < text.len() {
        let next = line_end(text, at);
        if !is_blank(&text[at..next]) {
            break;
        }
        count += 1;
        at = next;
    }
    (count, at)
}
