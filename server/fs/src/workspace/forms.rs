//! Lexical screening of a raw path before it touches the file system: forms that are ambiguous
//! across platforms or that render like something else are refused outright, so what a reviewer
//! reads in a log is what Jingu resolves.

use unicode_normalization::UnicodeNormalization;

use super::PathError;

/// Characters that render like `/`, `\` or `.` but are not.
fn is_lookalike_separator(c: char) -> bool {
    matches!(
        c,
        '\u{2215}' // division slash
            | '\u{2044}' // fraction slash
            | '\u{FF0F}' // fullwidth solidus
            | '\u{29F8}' // big solidus
            | '\u{2571}' // box drawings diagonal
            | '\u{1735}' // philippine single punctuation
            | '\u{FF3C}' // fullwidth reverse solidus
            | '\u{29F5}' // reverse solidus operator
            | '\u{FE68}' // small reverse solidus
            | '\u{FF0E}' // fullwidth full stop
            | '\u{2024}' // one dot leader
            | '\u{2025}' // two dot leader
            | '\u{2026}' // ellipsis
            | '\u{FE52}' // small full stop
            | '\u{3002}' // ideographic full stop
            | '\u{FF61}' // halfwidth ideographic full stop
            | '\u{0701}' // syriac supralinear full stop
            | '\u{A60E}' // vai full stop
    )
}

/// Invisible or direction-changing characters: they make a name differ from how it looks.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}'
    )
}

/// Screen `raw` for refused forms. Ordinary non-ASCII names (`数据.rs`, `café.py`) pass.
pub(super) fn screen(raw: &str) -> Result<(), PathError> {
    let sus = |why: &'static str| Err(PathError::Suspicious(raw.into(), why));
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    if raw.contains('\0') {
        return Err(PathError::Nul);
    }
    if raw.chars().any(char::is_control) {
        return sus("control character");
    }
    if raw.contains('\\') {
        return sus("backslash separator (Windows form)");
    }
    let b = raw.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return sus("Windows drive letter");
    }
    if raw.starts_with("//") {
        return sus("UNC or double-slash root");
    }
    if raw.starts_with('~') {
        return sus("home-relative path");
    }
    if raw.contains("://") || raw.starts_with("file:") {
        return sus("URL instead of a path");
    }
    if raw.chars().any(is_lookalike_separator) {
        return sus("look-alike separator or dot");
    }
    if raw.chars().any(is_invisible) {
        return sus("invisible or bidirectional character");
    }
    // Compatibility forms (fullwidth letters, ligatures, superscripts…) normalise to other names.
    if raw.nfkc().ne(raw.chars()) {
        return sus("not in Unicode NFKC form (look-alike characters)");
    }
    for part in raw.split('/') {
        // Windows strips trailing dots and spaces, and `...` is `..` on some systems.
        if part.len() > 2 && part.chars().all(|c| c == '.') {
            return sus("dot-only component");
        }
        if part.ends_with(' ') || (part.ends_with('.') && part != "." && part != "..") {
            return sus("trailing dot or space");
        }
        if part.contains(':') {
            return sus("colon (Windows stream or drive form)");
        }
    }
    Ok(())
}

/// ASCII skeleton of a name: case-folded, with letters that impersonate the ones in `.git` and
/// `.jingu` mapped to them (dotless i, Cyrillic і/ј/ո-like forms, script g…).
fn skeleton(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{0131}' | '\u{0456}' | '\u{03B9}' | '\u{0269}' | '\u{1D09}' | '\u{0406}' => 'i',
            '\u{0261}' | '\u{0262}' | '\u{050C}' | '\u{050D}' => 'g',
            '\u{0442}' | '\u{03C4}' | '\u{0422}' | '\u{01AD}' => 't',
            '\u{0458}' | '\u{0408}' | '\u{029D}' => 'j',
            '\u{0578}' | '\u{057C}' | '\u{043F}' | '\u{03B7}' => 'n',
            '\u{057D}' | '\u{03C5}' | '\u{028B}' | '\u{0446}' => 'u',
            other => other.to_ascii_lowercase(),
        })
        .collect::<String>()
        .trim_end_matches(['.', ' '])
        .to_string()
}

/// Names no tool may reach, in any letter case or look-alike spelling.
pub(super) fn protected_name(component: &str) -> Option<&'static str> {
    match skeleton(component).as_str() {
        ".git" => Some("the user's git repository"),
        ".jingu" => Some("Jingu's configuration"),
        _ => None,
    }
}
