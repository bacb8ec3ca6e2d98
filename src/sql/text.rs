//! Text in the emitted SQL: every string literal holds only printable characters, so
//! that no client (`psql -f`, a dbt run, a reviewer's editor) reads a script differently
//! from the database. Control characters, line separators and invisible format
//! characters (bidirectional overrides, zero-width characters) are spelled as escapes or
//! `CHR(n)` per dialect; see `docs/sql.md`, "Text in the SQL".

use std::fmt::Write;

/// Whether `c` must not appear raw in a script: a control character (`\0`, newline,
/// escape …), a line or paragraph separator, or an invisible format character that can
/// make text read differently from what it holds (bidirectional overrides and isolates,
/// zero-width characters, the byte-order mark, tag characters).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// A piece of a text: a run of safe characters, or one unsafe character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Safe(&'a str),
    Unsafe(char),
}

/// `s` split into runs of safe characters and single unsafe ones, in order.
pub fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if is_unsafe(c) {
            if start < i {
                out.push(Piece::Safe(&s[start..i]));
            }
            out.push(Piece::Unsafe(c));
            start = i + c.len_utf8();
        }
    }
    if start < s.len() || out.is_empty() {
        out.push(Piece::Safe(&s[start..]));
    }
    out
}

/// A literal as `'…' || CHR(n) || '…'`: safe runs quoted by `quote`, each unsafe
/// character as `CHR` of its code point (DuckDB, Snowflake, Trino).
pub fn chr_concat(s: &str, quote: impl Fn(&str) -> String) -> String {
    let parts: Vec<String> = pieces(s)
        .into_iter()
        .map(|p| match p {
            Piece::Safe(t) => quote(t),
            Piece::Unsafe(c) => format!("CHR({})", u32::from(c)),
        })
        .collect();
    match parts.as_slice() {
        [one] => one.clone(),
        _ => format!("({})", parts.join(" || ")),
    }
}

/// A literal with backslash escapes: `prefix'…'` where a backslash is `\\`, the quote
/// is `quote_escape`, and an unsafe character is `\uXXXX`, or `\UXXXXXXXX` beyond the
/// Basic Multilingual Plane (`long: true`) or a UTF-16 surrogate pair (`long: false`).
pub fn backslash_escaped(s: &str, prefix: &str, quote_escape: &str, long: bool) -> String {
    let mut out = format!("{prefix}'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str(quote_escape),
            c if is_unsafe(c) => {
                let n = u32::from(c);
                if n <= 0xFFFF {
                    let _ = write!(out, "\\u{n:04X}");
                } else if long {
                    let _ = write!(out, "\\U{n:08X}");
                } else {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{u:04X}");
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `'…'` with quotes doubled: a standard SQL literal of safe text.
pub fn standard(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_every_character_in_order() {
        let s = "a\u{0}b\nc\u{202E}";
        let back: String = pieces(s)
            .iter()
            .map(|p| match p {
                Piece::Safe(t) => t.to_string(),
                Piece::Unsafe(c) => c.to_string(),
            })
            .collect();
        assert_eq!(back, s);
        assert_eq!(pieces(""), vec![Piece::Safe("")]);
    }

    #[test]
    fn literals_hold_no_unsafe_character() {
        let s = "it's \\! a\u{0}\n\u{1b}[31m\u{202E}\u{E0041}";
        for lit in [
            chr_concat(s, standard),
            backslash_escaped(s, "E", "''", true),
            backslash_escaped(s, "", "\\'", false),
        ] {
            assert!(!lit.chars().any(is_unsafe), "{lit}");
        }
        assert_eq!(
            chr_concat("a\nb", standard),
            "('a' || CHR(10) || 'b')".to_string()
        );
        assert_eq!(
            backslash_escaped("\u{E0041}", "", "\\'", false),
            "'\\uDB40\\uDC41'"
        );
    }
}
