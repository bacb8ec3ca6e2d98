//! Text from rule files and data made safe for a terminal or a CI log: no control
//! character, line break or bidirectional override from the input reaches the output,
//! so input can neither start a line of its own (a forged `::error` command in a CI
//! log), move the cursor, recolour the screen nor reorder what is shown.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: control characters (C0, DEL, C1)
/// and the bidirectional embedding, override and isolate controls.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character written as an escape: `\n`, `\r`, `\t`, or `\u{…}`.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text of several lines (an error with the diagnostics under it, an explanation) with
/// every unsafe character but the line feeds escaped.
pub fn lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// Source text to show in excerpts: line feeds and tabs (and a carriage return before a
/// line feed) kept, every other unsafe character replaced by a visible one of the same
/// UTF-8 length (`?`, `¿` or `�`), so that byte offsets into the text stay valid.
pub fn same_width(s: &str) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')) || !unsafe_char(c)
    };
    let mut chars = s.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        if !keep(c, chars.peek().copied()) {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if keep(c, chars.peek().copied()) {
            out.push(c);
        } else {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '¿',
                _ => '\u{fffd}',
            });
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert_eq!(escape("plain Ø"), "plain Ø");
        assert_eq!(
            escape("a\n::error file=x::boom\u{1b}[31m\u{202e}"),
            "a\\n::error file=x::boom\\u{1b}[31m\\u{202e}"
        );
    }

    #[test]
    fn same_width_keeps_offsets() {
        let s = "a\u{1b}b\u{85}c\u{202e}d\r\ne\rf\tg\n";
        let t = same_width(s);
        assert_eq!(t.len(), s.len());
        assert_eq!(t, "a?b¿c\u{fffd}d\r\ne?f\tg\n");
    }
}
