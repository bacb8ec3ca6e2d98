//! Regexes for the warehouse: a rule's regex (Rust syntax) is parsed by `regex-syntax`
//! with the rule's flags, exactly as the native engine parses it, and printed back for
//! one engine's regex syntax with nothing left for the engine to interpret differently.
//! Every class is spelled as code point ranges (so `\w`, `\d`, `.` and case-insensitive
//! letters mean Unicode's, not the engine's), every non-ASCII or special character is
//! an escape, groups are non-capturing, and no flags are passed. Anchors and word
//! boundaries are only kept at the ends of the pattern, where a test for "a match
//! anywhere" can spell them with the characters around the match; elsewhere they are
//! refused. See `docs/sql.md`, "Text and regexes".

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

/// A regex engine's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// RE2 (DuckDB, BigQuery): `\x{HHHH}`, `\A`, `\z`, counts up to 1000.
    Re2,
    /// PostgreSQL's advanced regexes: `\uHHHH` / `\UHHHHHHHH`, `\A`, `\Z`, counts up to
    /// 255; text cannot hold NUL, so classes start at U+0001.
    Postgres,
    /// `java.util.regex` (Spark) and Joni (Trino): `\x{HHHH}`, `\A`, `\z`.
    Java,
    /// Snowflake's POSIX-style regexes: `^`, `$`, no code point escapes (characters
    /// are written as themselves; the string literal escapes what SQL must not hold
    /// raw), no escapes inside brackets.
    Posix,
}

/// Why a regex cannot be written for an engine.
pub type Refusal = String;

impl Flavour {
    fn start(self) -> &'static str {
        match self {
            Flavour::Posix => "^",
            _ => "\\A",
        }
    }

    fn end(self) -> &'static str {
        match self {
            Flavour::Posix => "$",
            Flavour::Postgres => "\\Z",
            _ => "\\z",
        }
    }

    fn max_count(self) -> u32 {
        match self {
            Flavour::Re2 => 1000,
            Flavour::Postgres | Flavour::Posix => 255,
            Flavour::Java => 100_000,
        }
    }

    /// One character, outside (`in_class: false`) or inside a bracket expression.
    fn char(self, c: char, in_class: bool) -> Result<String, Refusal> {
        if c.is_ascii_alphanumeric() || c == ' ' {
            return Ok(c.to_string());
        }
        let n = u32::from(c);
        Ok(match self {
            Flavour::Posix if in_class && "[]\\^-".contains(c) => {
                return Err(format!(
                    "`{c}` inside a class (Snowflake's brackets take no escapes)"
                ));
            }
            _ if c.is_ascii_graphic() && !(self == Flavour::Posix && in_class) => {
                format!("\\{c}")
            }
            Flavour::Re2 | Flavour::Java => format!("\\x{{{n:X}}}"),
            Flavour::Postgres if n <= 0xFFFF => format!("\\u{n:04X}"),
            Flavour::Postgres => format!("\\U{n:08X}"),
            // Written as itself: the string literal holding the pattern spells the
            // characters that must not appear raw in SQL (`CHR(n)`).
            Flavour::Posix => c.to_string(),
        })
    }
}

/// The rule's regex with its flags, for `flavour`; a refusal says what cannot be kept.
pub fn translate(pattern: &str, flags: &str, flavour: Flavour) -> Result<String, Refusal> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .ignore_whitespace(flags.contains('x'))
        .build()
        .parse(pattern)
        .map_err(|e| format!("a regex that does not parse ({e})"))?;
    Printer { flavour }.top(&hir)
}

struct Printer {
    flavour: Flavour,
}

/// The word characters of a word-boundary assertion.
fn word_class(look: Look) -> ClassUnicode {
    let ascii = matches!(
        look,
        Look::WordAscii
            | Look::WordAsciiNegate
            | Look::WordStartAscii
            | Look::WordEndAscii
            | Look::WordStartHalfAscii
            | Look::WordEndHalfAscii
    );
    if ascii {
        ClassUnicode::new([
            ClassUnicodeRange::new('0', '9'),
            ClassUnicodeRange::new('A', 'Z'),
            ClassUnicodeRange::new('_', '_'),
            ClassUnicodeRange::new('a', 'z'),
        ])
    } else {
        match regex_syntax::parse(r"\w").map(Hir::into_kind) {
            Ok(HirKind::Class(Class::Unicode(c))) => c,
            _ => ClassUnicode::empty(),
        }
    }
}

/// Where a character set stands against the word characters.
#[derive(PartialEq)]
enum Side {
    Word,
    NonWord,
    Mixed,
}

fn side(set: &ClassUnicode, word: &ClassUnicode) -> Side {
    let mut inside = set.clone();
    inside.intersect(word);
    if inside.ranges().is_empty() {
        Side::NonWord
    } else if inside == *set {
        Side::Word
    } else {
        Side::Mixed
    }
}

/// The characters an item can start (`last: false`) or end with; `None` when unknown
/// or when it can match the empty string.
fn edge(h: &Hir, last: bool) -> Option<ClassUnicode> {
    match h.kind() {
        HirKind::Literal(l) => {
            let s = std::str::from_utf8(&l.0).ok()?;
            let c = if last {
                s.chars().next_back()?
            } else {
                s.chars().next()?
            };
            Some(ClassUnicode::new([ClassUnicodeRange::new(c, c)]))
        }
        HirKind::Class(Class::Unicode(c)) => Some(c.clone()),
        HirKind::Class(Class::Bytes(b)) => b.to_unicode_class(),
        HirKind::Capture(c) => edge(&c.sub, last),
        HirKind::Repetition(r) if r.min >= 1 => edge(&r.sub, last),
        HirKind::Concat(xs) => {
            let x = if last { xs.last()? } else { xs.first()? };
            edge(x, last)
        }
        HirKind::Alternation(xs) => {
            let mut out = ClassUnicode::empty();
            for x in xs {
                out.union(&edge(x, last)?);
            }
            Some(out)
        }
        _ => None,
    }
}

impl Printer {
    /// The whole pattern, tested for a match anywhere.
    fn top(&self, h: &Hir) -> Result<String, Refusal> {
        match h.kind() {
            HirKind::Alternation(xs) => {
                let parts = xs
                    .iter()
                    .map(|x| self.top(x).map(|p| format!("(?:{p})")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(parts.join("|"))
            }
            HirKind::Capture(c) => self.top(&c.sub),
            HirKind::Concat(xs) => self.sequence(xs),
            _ => self.sequence(std::slice::from_ref(h)),
        }
    }

    /// A top-level sequence: anchors and word boundaries at its ends become the
    /// characters (or text edges) around the match.
    fn sequence(&self, xs: &[Hir]) -> Result<String, Refusal> {
        let look = |h: &Hir| match h.kind() {
            HirKind::Look(l) => Some(*l),
            _ => None,
        };
        let lead = xs.iter().take_while(|h| look(h).is_some()).count();
        let trail = xs[lead..]
            .iter()
            .rev()
            .take_while(|h| look(h).is_some())
            .count();
        let body = &xs[lead..xs.len() - trail];
        let mut out = String::new();
        for h in &xs[..lead] {
            if let Some(l) = look(h) {
                out.push_str(&self.edge_look(l, body.first(), false)?);
            }
        }
        for h in body {
            out.push_str(&self.item(h)?);
        }
        for h in &xs[xs.len() - trail..] {
            if let Some(l) = look(h) {
                out.push_str(&self.edge_look(l, body.last(), true)?);
            }
        }
        Ok(out)
    }

    /// An assertion at the start (`at_end: false`) or end of the pattern, next to
    /// `next` (the first or last item), as the characters it requires there.
    fn edge_look(&self, l: Look, next: Option<&Hir>, at_end: bool) -> Result<String, Refusal> {
        let f = self.flavour;
        let (text_edge, word) = (if at_end { f.end() } else { f.start() }, word_class(l));
        let class = |negated: bool| {
            let mut c = word.clone();
            if negated {
                c.negate();
            }
            self.class(&c)
        };
        let open = |negated: bool| -> Result<String, Refusal> {
            let c = class(negated)?;
            Ok(if at_end {
                format!("(?:{c}|{text_edge})")
            } else {
                format!("(?:{text_edge}|{c})")
            })
        };
        let refuse = || {
            Err(format!(
                "an assertion ({l:?}) next to something that may or may not be a word character"
            ))
        };
        match l {
            Look::Start if !at_end => return Ok(text_edge.to_string()),
            Look::End if at_end => return Ok(text_edge.to_string()),
            Look::StartLF if !at_end => {
                return Ok(format!("(?:{text_edge}|{})", f.char('\n', false)?));
            }
            Look::EndLF if at_end => {
                return Ok(format!("(?:{}|{text_edge})", f.char('\n', false)?));
            }
            _ => {}
        }
        let set = next.and_then(|h| edge(h, at_end));
        let s = match &set {
            Some(set) => side(set, &word),
            None => return refuse(),
        };
        // The side the neighbour outside the match must be on, or `None` when the
        // assertion holds whatever it is.
        let outside_nonword = match (l, &s) {
            (Look::WordAscii | Look::WordUnicode, Side::Word) => Some(true),
            (Look::WordAscii | Look::WordUnicode, Side::NonWord) => Some(false),
            (Look::WordAsciiNegate | Look::WordUnicodeNegate, Side::Word) => Some(false),
            (Look::WordAsciiNegate | Look::WordUnicodeNegate, Side::NonWord) => Some(true),
            (Look::WordStartAscii | Look::WordStartUnicode, Side::Word) if !at_end => Some(true),
            (Look::WordEndAscii | Look::WordEndUnicode, Side::Word) if at_end => Some(true),
            (Look::WordStartHalfAscii | Look::WordStartHalfUnicode, _) if !at_end => Some(true),
            (Look::WordEndHalfAscii | Look::WordEndHalfUnicode, _) if at_end => Some(true),
            (Look::WordStartHalfAscii | Look::WordStartHalfUnicode, Side::NonWord) if at_end => {
                None
            }
            (Look::WordEndHalfAscii | Look::WordEndHalfUnicode, Side::NonWord) if !at_end => None,
            _ => return refuse(),
        };
        match outside_nonword {
            None => Ok(String::new()),
            Some(true) => open(true),
            Some(false) => class(false),
        }
    }

    fn item(&self, h: &Hir) -> Result<String, Refusal> {
        let f = self.flavour;
        Ok(match h.kind() {
            HirKind::Empty => "(?:)".into(),
            HirKind::Literal(l) => {
                let s = std::str::from_utf8(&l.0)
                    .map_err(|_| "a byte-oriented regex (`(?-u)`)".to_string())?;
                let mut out = String::new();
                for c in s.chars() {
                    out.push_str(&f.char(c, false)?);
                }
                out
            }
            HirKind::Class(Class::Unicode(c)) => self.class(c)?,
            HirKind::Class(Class::Bytes(b)) => self.class(
                &b.to_unicode_class()
                    .ok_or_else(|| "a byte class beyond ASCII (`(?-u)`)".to_string())?,
            )?,
            HirKind::Look(l) => {
                return Err(format!(
                    "an anchor or word boundary ({l:?}) inside the pattern"
                ));
            }
            HirKind::Repetition(r) => {
                let sub = format!("(?:{})", self.item(&r.sub)?);
                let limit = f.max_count();
                if r.min > limit || r.max.is_some_and(|m| m > limit) {
                    return Err(format!("a repetition count above {limit}"));
                }
                match (r.min, r.max) {
                    (0, None) => format!("{sub}*"),
                    (1, None) => format!("{sub}+"),
                    (0, Some(1)) => format!("{sub}?"),
                    (n, None) => format!("{sub}{{{n},}}"),
                    (n, Some(m)) if n == m => format!("{sub}{{{n}}}"),
                    (n, Some(m)) => format!("{sub}{{{n},{m}}}"),
                }
            }
            HirKind::Capture(c) => format!("(?:{})", self.item(&c.sub)?),
            HirKind::Concat(xs) => {
                let mut out = String::new();
                for x in xs {
                    out.push_str(&self.item(x)?);
                }
                out
            }
            HirKind::Alternation(xs) => {
                let parts = xs
                    .iter()
                    .map(|x| self.item(x))
                    .collect::<Result<Vec<_>, _>>()?;
                format!("(?:{})", parts.join("|"))
            }
        })
    }

    /// A class as a bracket expression of code point ranges; in Snowflake, whose
    /// brackets cannot name control characters, as the negation of its complement
    /// when that can be written.
    fn class(&self, c: &ClassUnicode) -> Result<String, Refusal> {
        match self.ranges(c, "[") {
            Err(why) if self.flavour == Flavour::Posix => {
                let mut complement = c.clone();
                complement.negate();
                self.ranges(&complement, "[^").map_err(|_| why)
            }
            other => other,
        }
    }

    fn ranges(&self, c: &ClassUnicode, open: &str) -> Result<String, Refusal> {
        let f = self.flavour;
        let mut out = String::from(open);
        for r in c.ranges() {
            let (mut lo, hi) = (r.start(), r.end());
            if f == Flavour::Postgres && lo == '\0' {
                if hi == '\0' {
                    continue;
                }
                lo = '\u{1}';
            }
            out.push_str(&f.char(lo, true)?);
            if hi != lo {
                if u32::from(hi) > u32::from(lo) + 1 {
                    out.push('-');
                }
                out.push_str(&f.char(hi, true)?);
            }
        }
        if out.len() == open.len() {
            return Err("a class that matches no character or every character".into());
        }
        out.push(']');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re2(p: &str, flags: &str) -> String {
        translate(p, flags, Flavour::Re2).unwrap_or_else(|e| format!("refused: {e}"))
    }

    #[test]
    fn letters_fold_and_words_bound_as_natively() {
        assert_eq!(re2("vp", "i"), "[Vv][Pp]");
        assert_eq!(re2("k", "i"), "[Kk\\x{212A}]");
        assert_eq!(
            re2(r"\bvp\b", ""),
            format!("(?:\\A|{0})vp(?:{0}|\\z)", {
                let mut w = word_class(Look::WordUnicode);
                w.negate();
                Printer {
                    flavour: Flavour::Re2,
                }
                .class(&w)
                .unwrap_or_default()
            })
        );
        assert_eq!(
            re2("^a.c$", ""),
            "\\Aa[\\x{0}-\\x{9}\\x{B}-\\x{10FFFF}]c\\z"
        );
        assert!(re2(r"a\bb", "").starts_with("refused"));
        assert_eq!(re2("a{300}", ""), "(?:a){300}");
        assert!(translate("a{300}", "", Flavour::Postgres).is_err());
    }

    #[test]
    fn output_is_printable_ascii() {
        for p in [
            r"\w+",
            r"(?i)straße",
            r"\d",
            r"[^a]",
            r"\x{0}\n\u{e6}",
            r"(?x) a b # c",
        ] {
            for f in [Flavour::Re2, Flavour::Postgres, Flavour::Java] {
                let out = translate(p, "", f).unwrap_or_default();
                assert!(
                    out.chars().all(|c| c.is_ascii_graphic() || c == ' '),
                    "{p}: {out}"
                );
            }
        }
    }
}
