//! Conversion between LSP positions (line + character in the negotiated encoding) and byte offsets.

use ropey::Rope;
use tower_lsp_server::ls_types::Position;

/// The `positionEncoding` negotiated at `initialize`: UTF-8 when the client offers it, else UTF-16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PositionError {
    #[error("line {line} is past the end of the document ({lines} lines)")]
    LineOutOfRange { line: u32, lines: usize },
}

/// Byte offset of `pos`. A character past the end of its line clamps to the line end (the spec
/// says so); a position inside a surrogate pair or a multi-byte sequence snaps to the character start.
pub fn to_byte(rope: &Rope, pos: Position, enc: Encoding) -> Result<usize, PositionError> {
    let line = pos.line as usize;
    let lines = rope.len_lines();
    if line >= lines {
        // One past the last line is valid only as "end of document" with character 0.
        if line == lines && pos.character == 0 {
            return Ok(rope.len_bytes());
        }
        return Err(PositionError::LineOutOfRange {
            line: pos.line,
            lines,
        });
    }
    let line_start_char = rope.line_to_char(line);
    let line_slice = rope.line(line);
    // Exclude the line terminator: positions address content only.
    let mut content_chars = line_slice.len_chars();
    while content_chars > 0 {
        let c = line_slice.char(content_chars - 1);
        if c == '\n' || c == '\r' {
            content_chars -= 1;
        } else {
            break;
        }
    }
    let want = pos.character as usize;
    let mut units = 0usize;
    let mut chars = 0usize;
    for c in line_slice.chars().take(content_chars) {
        let w = match enc {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        };
        if units + w > want {
            break;
        }
        units += w;
        chars += 1;
    }
    Ok(rope.char_to_byte(line_start_char + chars))
}

/// LSP position of a byte offset (clamped to the document).
pub fn to_position(rope: &Rope, byte: usize, enc: Encoding) -> Position {
    let byte = byte.min(rope.len_bytes());
    let line = rope.byte_to_line(byte);
    let line_start = rope.line_to_byte(line);
    let character = match enc {
        Encoding::Utf8 => byte - line_start,
        Encoding::Utf16 => {
            let line_start_char = rope.line_to_char(line);
            let char_idx = rope.byte_to_char(byte);
            let cu_start = rope.char_to_utf16_cu(line_start_char);
            rope.char_to_utf16_cu(char_idx) - cu_start
        }
    };
    Position::new(line as u32, character as u32)
}

/// LSP positions of many byte offsets (each clamped to the document), in one forward scan from the
/// line of the smallest: an outline converts thousands, and [`to_position`] costs several rope
/// lookups each.
pub fn to_positions(rope: &Rope, offsets: &[usize], enc: Encoding) -> Vec<Position> {
    let len = rope.len_bytes();
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_unstable_by_key(|&i| offsets[i]);
    let mut out = vec![Position::default(); offsets.len()];
    let Some(&first) = order.first() else {
        return out;
    };
    let mut line = rope.byte_to_line(offsets[first].min(len));
    let mut at = rope.line_to_byte(line);
    let mut column = 0usize;
    // The rope's chunks as byte slices, scanned in a tight loop: a byte iterator with a peek per
    // byte was most of an outline's cost on a 4,600-line file.
    let (chunks, chunk_start, _, _) = rope.chunks_at_byte(at);
    let mut chunks = chunks.peekable();
    let mut chunk: &[u8] = chunks.next().map_or(&[], str::as_bytes);
    let mut j = at - chunk_start;
    let weight = |b: u8| match enc {
        Encoding::Utf8 => 1,
        // UTF-8 continuation bytes add nothing in UTF-16; a 4-byte sequence is a surrogate pair.
        Encoding::Utf16 if b & 0xC0 == 0x80 => 0,
        Encoding::Utf16 if b >= 0xF0 => 2,
        Encoding::Utf16 => 1,
    };
    for i in order {
        let target = offsets[i].min(len);
        while at < target {
            if j >= chunk.len() {
                match chunks.next() {
                    Some(c) => (chunk, j) = (c.as_bytes(), 0),
                    None => break,
                }
                continue;
            }
            let end = chunk.len().min(j + (target - at));
            at += end - j;
            while j < end {
                match chunk[j] {
                    b'\n' => (line, column) = (line + 1, 0),
                    // A lone CR ends a line; in CRLF the LF does (the CR counts as a character).
                    b'\r' => {
                        let next = match chunk.get(j + 1) {
                            Some(&n) => Some(n),
                            None => chunks.peek().and_then(|c| c.as_bytes().first().copied()),
                        };
                        if next == Some(b'\n') {
                            column += 1;
                        } else {
                            (line, column) = (line + 1, 0);
                        }
                    }
                    b => column += weight(b),
                }
                j += 1;
            }
        }
        out[i] = Position::new(line as u32, column as u32);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_round_trip() {
        let rope = Rope::from_str("fn a() {}\nfn b() {}\n");
        let p = Position::new(1, 3);
        let b = to_byte(&rope, p, Encoding::Utf16).expect("in range");
        assert_eq!(b, 13);
        assert_eq!(to_position(&rope, b, Encoding::Utf16), p);
    }

    #[test]
    fn non_ascii_differs_between_encodings() {
        // 'é' is 2 UTF-8 bytes / 1 UTF-16 unit; '𝄞' is 4 bytes / 2 units.
        let rope = Rope::from_str("let s = \"é𝄞\"; x\n");
        let x_byte = "let s = \"é𝄞\"; ".len();
        assert_eq!(
            to_position(&rope, x_byte, Encoding::Utf8),
            Position::new(0, x_byte as u32)
        );
        assert_eq!(
            to_position(&rope, x_byte, Encoding::Utf16),
            Position::new(0, 15)
        );
        assert_eq!(
            to_byte(&rope, Position::new(0, 15), Encoding::Utf16),
            Ok(x_byte)
        );
        assert_eq!(
            to_byte(&rope, Position::new(0, x_byte as u32), Encoding::Utf8),
            Ok(x_byte)
        );
    }

    #[test]
    fn past_line_end_clamps_and_past_document_errors() {
        let rope = Rope::from_str("ab\r\ncd");
        assert_eq!(to_byte(&rope, Position::new(0, 99), Encoding::Utf16), Ok(2));
        assert_eq!(to_byte(&rope, Position::new(1, 2), Encoding::Utf16), Ok(6));
        assert!(to_byte(&rope, Position::new(5, 0), Encoding::Utf16).is_err());
    }

    /// `to_positions` gives, in both encodings, what `to_position` gives offset by offset.
    fn assert_batch_matches_one_by_one(rope: &Rope, offsets: &[usize]) {
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            let batch = to_positions(rope, offsets, enc);
            let single: Vec<Position> =
                offsets.iter().map(|&b| to_position(rope, b, enc)).collect();
            assert_eq!(batch, single, "{enc:?}");
        }
    }

    #[test]
    fn batch_conversion_agrees_with_one_by_one() {
        let text = "fn a() {}\r\nlet s = \"é𝄞\";\rx\n\n  z\u{2028}w\r\n";
        let rope = Rope::from_str(text);
        let mut offsets: Vec<usize> = (0..=text.len() + 3)
            .filter(|&b| b > text.len() || text.is_char_boundary(b))
            .collect();
        offsets.reverse(); // any order
        assert_batch_matches_one_by_one(&rope, &offsets);
        assert!(to_positions(&rope, &[], Encoding::Utf16).is_empty());
    }

    #[test]
    fn lines_end_only_where_lsp_says() {
        // LSP: "\n", "\r\n" and "\r"; U+2028 and NEL are ordinary characters.
        let rope = Rope::from_str("a\u{2028}b\u{85}c\rd\r\ne\n");
        assert_eq!(rope.len_lines(), 4);
        let c = "a\u{2028}b\u{85}".len();
        assert_eq!(to_position(&rope, c, Encoding::Utf16), Position::new(0, 4));
        assert_eq!(
            to_byte(&rope, Position::new(1, 0), Encoding::Utf16),
            Ok(c + 2)
        );
    }

    #[test]
    fn inside_a_surrogate_pair_snaps_to_the_character_start() {
        let rope = Rope::from_str("𝄞x");
        assert_eq!(to_byte(&rope, Position::new(0, 1), Encoding::Utf16), Ok(0));
    }

    #[test]
    fn batch_conversion_agrees_across_chunk_boundaries() {
        // Long enough for many rope chunks, with CRLF, lone CRs and multi-byte characters falling
        // on chunk edges somewhere.
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(match i % 5 {
                0 => "fn a() {}\r\n",
                1 => "let s = \"é𝄞\";\r",
                2 => "  z\u{2028}w\n",
                3 => "\r\n",
                _ => "x𝄞y\n",
            });
        }
        let rope = Rope::from_str(&text);
        assert!(rope.chunks().count() > 10);
        let offsets: Vec<usize> = (0..=text.len())
            .filter(|&b| text.is_char_boundary(b))
            .step_by(3)
            .collect();
        assert_batch_matches_one_by_one(&rope, &offsets);
    }
}
