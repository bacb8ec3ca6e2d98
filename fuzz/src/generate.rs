//! Structure-aware rule files for fuzzing: the fuzzer's bytes choose productions of the
//! Funnel grammar (definitions, expressions, streams, windows, literals), so nearly every
//! input parses and most check, and the checker, planner, formatter and SQL compiler see
//! deep programs rather than syntax errors. Names refer to a fixed schema ([`SCHEMA`])
//! and to definitions made earlier in the same file (and, now and then, later ones, or
//! unknown ones), and string literals hold hostile text (control characters, quotes,
//! backslashes, `psql` meta-commands).
//!
//! Shared by the fuzz targets (`fuzz/`) and the corpus replay test (`tests/fuzz_corpus.rs`).

use arbitrary::{Result, Unstructured};
use std::fmt::Write;

/// The schema every generated rule file starts with.
pub const SCHEMA: &str = "contact {
  title: text?
  size: int? in 0..100000
  region: one of (emea, amer, apac)
  client: bool
  stage: one of (lead, mql, customer) with history
  ltv: number
  born: date?
  seen: timestamp?
  term: duration?
  account: account?
}
account { name: text, industry: text?, tier: one of (key, standard)? }
event page_viewed { url: text, seconds: int }
event purchased { amount: number, product: one of (crm, email) }
event email_bounced { kind: one of (hard, soft) }
";

const TEXT_FIELDS: &[&str] = &["title"];
const NUM_FIELDS: &[&str] = &["size", "ltv"];
const EVENTS: &[&str] = &["page_viewed", "purchased", "email_bounced", "event"];
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("page_viewed", "url"),
    ("page_viewed", "seconds"),
    ("purchased", "amount"),
    ("purchased", "product"),
    ("email_bounced", "kind"),
];
const AGGS: &[&str] = &[
    "count",
    "count_distinct",
    "sum",
    "min",
    "max",
    "avg",
    "first",
    "last",
    "first_time",
    "last_time",
    "most_frequent",
];
/// Strings that have broken, or could break, an output: SQL quoting, `psql`
/// meta-commands, CSV formulas, terminal escapes, YAML, paths.
const NASTY: &[&str] = &[
    "",
    "'",
    "''",
    "\\",
    "\\' ; DROP TABLE x; --",
    "\\! touch /tmp/pwned",
    "\n\\! touch /tmp/pwned\n",
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "\u{0}",
    "\u{1b}[31mred",
    "\r\n::error file=x::boom",
    "a: b",
    "&x",
    "../../etc/passwd",
    "$$",
    "$1",
    "?",
    "%s",
    "}{",
    "Direktør",
    "\u{202e}evil",
    "\u{feff}",
    "\u{7f}",
];
const NASTY_IDENTS: &[&str] = &[
    "`a.b`", "`../x`", "`a/b`", "`select`", "`x y`", "`æ`", "`\"`",
];

/// Generates one rule file (the schema, then definitions) from the fuzzer's bytes.
pub fn rule_file(u: &mut Unstructured<'_>) -> Result<String> {
    let mut g = Gen {
        out: String::from(SCHEMA),
        defs: Vec::new(),
        bools: Vec::new(),
        scores: Vec::new(),
        u,
    };
    let n = g.u.int_in_range(1..=12)?;
    for i in 0..n {
        g.item(i)?;
        g.out.push('\n');
    }
    Ok(g.out)
}

struct Gen<'a, 'b> {
    out: String,
    /// Names defined so far (segments, values, scores, tiers, personas, signals).
    defs: Vec<String>,
    /// Yes-or-no definitions so far (segments, signals), for conditions.
    bools: Vec<String>,
    /// Scores defined so far (for tiers and as-of reads).
    scores: Vec<String>,
    u: &'a mut Unstructured<'b>,
}

impl Gen<'_, '_> {
    fn pick<'s>(&mut self, xs: &[&'s str]) -> Result<&'s str> {
        Ok(*self.u.choose(xs)?)
    }

    fn name(&mut self, i: u32, kind: &str) -> Result<String> {
        if self.u.ratio(1, 12)? {
            let q = self.pick(NASTY_IDENTS)?;
            return Ok(q.to_string());
        }
        Ok(format!("{kind}{i}"))
    }

    fn comment(&mut self) -> Result<()> {
        if self.u.ratio(1, 6)? {
            let text = self.string_body()?;
            let text: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
            let _ = writeln!(self.out, "# {text}");
        }
        Ok(())
    }

    fn item(&mut self, i: u32) -> Result<()> {
        self.comment()?;
        match self.u.int_in_range(0..=9)? {
            0 => {
                let name = self.name(i, "sig")?;
                let ev = self.pick(&EVENTS[..3])?;
                let _ = write!(self.out, "signal {name} = {ev}");
                if self.u.arbitrary()? {
                    self.out.push_str(" where ");
                    self.filter(ev, 0)?;
                }
                self.defs.push(name.clone());
                self.bools.push(name);
            }
            1 => {
                let name = self.name(i, "val")?;
                let _ = write!(self.out, "value {name} = ");
                self.expr(0)?;
                self.defs.push(name);
            }
            2 => {
                let name = self.name(i, "top")?;
                let n = self.u.int_in_range(0..=5)?;
                let _ = write!(self.out, "segment {name} = top {n} by ");
                self.num(0)?;
                self.defs.push(name);
            }
            3 | 4 => self.score(i)?,
            5 => {
                let Some(score) = self.scores.last().cloned() else {
                    return self.segment(i);
                };
                let name = self.name(i, "tier")?;
                let _ = write!(self.out, "tiers {name} of {score} {{ ");
                let n = self.u.int_in_range(1..=4)?;
                let mut lo: i64 = self.u.int_in_range(-2..=2)?;
                for b in 0..n {
                    let hi = lo + i64::from(self.u.int_in_range(0u8..=40)?);
                    let _ = write!(self.out, "b{b} {lo}..{hi}, ");
                    lo = hi + 1 + i64::from(self.u.int_in_range(0u8..=1)?);
                }
                self.out.push('}');
                self.defs.push(name);
            }
            6 => {
                let name = self.name(i, "persona")?;
                let _ = writeln!(self.out, "personas {name} {{");
                for p in 0..self.u.int_in_range(1..=3)? {
                    self.comment()?;
                    let _ = write!(self.out, "  p{p} = ");
                    self.expr(0)?;
                    self.out.push('\n');
                }
                self.out.push('}');
                self.defs.push(name);
            }
            7 => {
                let name = self.name(i, "acct")?;
                if self.u.arbitrary()? {
                    let _ = write!(self.out, "account score {name} = sum(");
                    let inner = self.scores.last().cloned().unwrap_or_else(|| "ltv".into());
                    let _ = write!(self.out, "{inner})");
                } else {
                    let _ = write!(self.out, "account segment {name} = count(contacts where ");
                    self.cmp_field()?;
                    self.out.push_str(") >= 1");
                }
                self.defs.push(name);
            }
            _ => self.segment(i)?,
        }
        Ok(())
    }

    fn segment(&mut self, i: u32) -> Result<()> {
        let name = self.name(i, "seg")?;
        let _ = write!(self.out, "segment {name} = ");
        self.expr(0)?;
        self.defs.push(name.clone());
        self.bools.push(name);
        Ok(())
    }

    fn score(&mut self, i: u32) -> Result<()> {
        let name = self.name(i, "score")?;
        let _ = write!(self.out, "score {name}");
        if self.u.arbitrary()? {
            let lo: i32 = self.u.int_in_range(-10..=10)?;
            let hi: i32 = self.u.int_in_range(-10..=200)?;
            let _ = write!(self.out, " in {lo}..{hi}");
        }
        if self.u.ratio(1, 4)? {
            self.out.push_str(" = ");
            self.num(0)?;
        } else {
            self.out.push_str(" {\n");
            match self.u.int_in_range(0..=2)? {
                0 => {
                    let d = self.fixed_duration()?;
                    let _ = writeln!(self.out, "  decay half_life {d}");
                }
                1 => {
                    let p = self.u.int_in_range(0..=100)?;
                    let d = self.fixed_duration()?;
                    let _ = writeln!(self.out, "  decay {p}% every {d}");
                }
                _ => {}
            }
            for _ in 0..self.u.int_in_range(1..=5)? {
                self.comment()?;
                if self.u.ratio(1, 6)? {
                    let _ = writeln!(self.out, "  group g {{");
                    self.score_rule()?;
                    self.out.push_str("  }\n");
                } else {
                    self.score_rule()?;
                }
            }
            self.out.push('}');
        }
        self.defs.push(name.clone());
        self.scores.push(name);
        Ok(())
    }

    fn score_rule(&mut self) -> Result<()> {
        let sign = self.pick(&["+", "-"])?;
        let pts = self.u.int_in_range(0..=50)?;
        if self.u.arbitrary()? {
            let ev = self.pick(&EVENTS[..3])?;
            let mul = if ev == "purchased" && self.u.arbitrary()? {
                " * amount"
            } else {
                ""
            };
            let _ = write!(self.out, "  {sign}{pts}{mul} per {ev}");
            if self.u.arbitrary()? {
                self.out.push_str(" where ");
                self.filter(ev, 0)?;
            }
            if self.u.arbitrary()? {
                self.out.push(' ');
                self.window()?;
            }
        } else {
            let _ = write!(self.out, "  {sign}{pts} if ");
            self.expr(1)?;
        }
        if self.u.ratio(1, 3)? {
            let cap = self.u.int_in_range(0..=100)?;
            let _ = write!(self.out, ", at most {cap}");
        }
        self.out.push('\n');
        Ok(())
    }

    /// A boolean-ish or numeric expression, up to a few levels deep.
    fn expr(&mut self, depth: u32) -> Result<()> {
        if depth > 4 || self.u.ratio(1, 2)? {
            return self.atom(depth);
        }
        match self.u.int_in_range(0..=5)? {
            0 | 1 => {
                let op = self.pick(&[" and ", " or "])?;
                self.expr(depth + 1)?;
                for _ in 0..self.u.int_in_range(1..=3)? {
                    self.out.push_str(op);
                    self.expr(depth + 1)?;
                }
            }
            2 => {
                self.out.push_str("not ");
                self.expr(depth + 1)?;
            }
            3 => {
                self.out.push('(');
                self.expr(depth + 1)?;
                self.out.push(')');
            }
            4 => {
                self.num(depth + 1)?;
                let op = self.pick(&[" > ", " >= ", " < ", " <= ", " = ", " != "])?;
                self.out.push_str(op);
                self.num(depth + 1)?;
            }
            _ => self.cmp_field()?,
        }
        Ok(())
    }

    /// A numeric operand.
    fn num(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=7)? {
            0 => {
                let n = self.number()?;
                self.out.push_str(&n);
            }
            1 => {
                let f = self.pick(NUM_FIELDS)?;
                self.out.push_str(f);
            }
            2 => self.aggregate()?,
            3 if !self.scores.is_empty() => {
                let s = self.u.choose(&self.scores)?.clone();
                self.out.push_str(&s);
                if self.u.arbitrary()? {
                    let t = self.time_point()?;
                    let _ = write!(self.out, "({t})");
                }
            }
            4 => {
                self.out.push_str("time_since(");
                if self.u.arbitrary()? {
                    self.out.push_str("last_time(event)");
                } else {
                    self.out.push_str("born");
                }
                self.out.push(')');
            }
            5 if depth < 4 => {
                self.out.push('-');
                self.num(depth + 1)?;
            }
            6 if depth < 4 => {
                self.out.push('(');
                self.num(depth + 1)?;
                let op = self.pick(&[" + ", " - ", " * ", " / "])?;
                self.out.push_str(op);
                self.num(depth + 1)?;
                self.out.push(')');
            }
            _ => self.name_ref()?,
        }
        Ok(())
    }

    fn atom(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=11)? {
            0 => self.cmp_field()?,
            1 => {
                let f = self.pick(&["title", "size", "born", "seen", "account", "term"])?;
                let t = self.pick(&["is missing", "is present"])?;
                let _ = write!(self.out, "{f} {t}");
            }
            2 => {
                self.out.push_str("no ");
                self.stream()?;
            }
            3 => self.stream()?,
            4 => {
                let v = self.pick(&["lead", "mql", "customer", "nope"])?;
                match self.u.int_in_range(0..=2)? {
                    0 => {
                        let _ = write!(self.out, "stage was {v}");
                    }
                    1 => {
                        let _ = write!(self.out, "stage changed to {v}");
                    }
                    _ => {
                        let _ = write!(self.out, "stage changed from lead to {v}");
                    }
                }
                if self.u.arbitrary()? {
                    self.out.push(' ');
                    self.window()?;
                }
            }
            5 => {
                let t = self.time_point()?;
                let f = self.pick(&["born", "seen"])?;
                let op = self.pick(&["<", ">=", "="])?;
                let _ = write!(self.out, "{f} {op} {t}");
            }
            6 => {
                if self.u.arbitrary()? {
                    let t = self.pick(&["key", "standard"])?;
                    let _ = write!(self.out, "account.tier = {t}");
                } else {
                    let f = self.pick(&["account.industry", "account.name"])?;
                    let s = self.string()?;
                    let _ = write!(self.out, "{f} = {s}");
                }
            }
            7 => {
                let b = self.pick(&["client", "true", "false", "not client"])?;
                self.out.push_str(b);
            }
            8 if depth < 4 => {
                self.num(depth + 1)?;
                let op = self.pick(&[" > ", " >= ", " < ", " <= ", " = ", " != "])?;
                self.out.push_str(op);
                self.num(depth + 1)?;
            }
            9 => {
                let r = self.pick(&["emea", "amer", "apac", "mars"])?;
                let _ = write!(self.out, "region in ({r}, emea)");
            }
            _ => self.bool_ref()?,
        }
        Ok(())
    }

    /// A yes-or-no definition made earlier (or, now and then, any name).
    fn bool_ref(&mut self) -> Result<()> {
        if !self.bools.is_empty() && self.u.ratio(9, 10)? {
            let d = self.u.choose(&self.bools)?.clone();
            self.out.push_str(&d);
            Ok(())
        } else {
            self.name_ref()
        }
    }

    /// A comparison on a contact field: the `where` of `contacts where …` too.
    fn cmp_field(&mut self) -> Result<()> {
        match self.u.int_in_range(0..=6)? {
            0 => {
                let f = self.pick(TEXT_FIELDS)?;
                let op = self.pick(&["=", "!=", "contains", "starts with", "ends with"])?;
                let s = self.string()?;
                let _ = write!(self.out, "{f} {op} {s}");
            }
            1 => {
                let re = self.regex()?;
                let _ = write!(self.out, "title matches {re}");
            }
            2 => {
                let f = self.pick(NUM_FIELDS)?;
                let op = self.pick(&["<", "<=", ">", ">=", "=", "!="])?;
                let n = self.number()?;
                let _ = write!(self.out, "{f} {op} {n}");
            }
            3 => {
                let lo = self.u.int_in_range(-5i32..=50)?;
                let hi = self.u.int_in_range(-5i32..=500)?;
                let _ = write!(self.out, "size in {lo}..{hi}");
            }
            4 => {
                let s1 = self.string()?;
                let s2 = self.string()?;
                let _ = write!(self.out, "title in ({s1}, {s2})");
            }
            5 => {
                let v = self.pick(&["lead", "mql", "customer"])?;
                let _ = write!(self.out, "stage = {v}");
            }
            _ => {
                let d = self.duration()?;
                let _ = write!(self.out, "term > {d}");
            }
        }
        Ok(())
    }

    /// An event stream with an optional filter, window and frequency.
    fn stream(&mut self) -> Result<()> {
        let ev = self.pick(EVENTS)?;
        self.out.push_str(ev);
        if ev != "event" && self.u.arbitrary()? {
            self.out.push_str(" where ");
            self.filter(ev, 0)?;
        }
        if self.u.arbitrary()? {
            self.out.push(' ');
            self.window()?;
        }
        match self.u.int_in_range(0..=4)? {
            0 => {
                let q = self.pick(&["at least", "at most", "exactly"])?;
                let n = self.u.int_in_range(0..=5)?;
                let _ = write!(self.out, " {q} {n} times");
            }
            1 => {
                let a = self.u.int_in_range(0..=5)?;
                let b = self.u.int_in_range(0..=6)?;
                let unit = self.pick(&["days", "weeks", "months"])?;
                let _ = write!(self.out, " in at least {a} of the last {b} {unit}");
            }
            _ => {}
        }
        Ok(())
    }

    /// The condition of a `where` on `ev`'s fields.
    fn filter(&mut self, ev: &str, depth: u32) -> Result<()> {
        if depth < 2 && self.u.ratio(1, 4)? {
            self.filter(ev, depth + 1)?;
            let op = self.pick(&[" and ", " or "])?;
            self.out.push_str(op);
            return self.filter(ev, depth + 1);
        }
        let fields: Vec<&str> = EVENT_FIELDS
            .iter()
            .filter(|(e, _)| *e == ev)
            .map(|(_, f)| *f)
            .collect();
        let f = if fields.is_empty() {
            "url"
        } else {
            self.pick(&fields)?
        };
        match f {
            "url" => {
                let op = self.pick(&["=", "contains", "starts with", "matches"])?;
                if op == "matches" {
                    let re = self.regex()?;
                    let _ = write!(self.out, "url matches {re}");
                } else {
                    let s = self.string()?;
                    let _ = write!(self.out, "url {op} {s}");
                }
            }
            "product" => {
                let v = self.pick(&["crm", "email", "other"])?;
                let _ = write!(self.out, "product = {v}");
            }
            "kind" => {
                let v = self.pick(&["hard", "soft"])?;
                let _ = write!(self.out, "kind in ({v})");
            }
            other => {
                let op = self.pick(&["<", ">=", "=", "!="])?;
                let n = self.number()?;
                let _ = write!(self.out, "{other} {op} {n}");
            }
        }
        Ok(())
    }

    fn aggregate(&mut self) -> Result<()> {
        let agg = self.pick(AGGS)?;
        let (ev, f) = *self.u.choose(EVENT_FIELDS)?;
        let arg = match agg {
            "count" | "first_time" | "last_time" => ev.to_string(),
            _ => format!("{ev}.{f}"),
        };
        let _ = write!(self.out, "{agg}({arg}");
        if self.u.arbitrary()? {
            self.out.push_str(" where ");
            self.filter(ev, 1)?;
        }
        if self.u.arbitrary()? {
            self.out.push(' ');
            self.window()?;
        }
        self.out.push(')');
        Ok(())
    }

    /// A reference to a definition: an earlier one mostly, sometimes any name at all.
    fn name_ref(&mut self) -> Result<()> {
        if !self.defs.is_empty() && self.u.ratio(19, 20)? {
            let d = self.u.choose(&self.defs)?.clone();
            self.out.push_str(&d);
        } else {
            let n = self.pick(&["seg0", "score1", "undefined", "account.acct7", "sig3"])?;
            self.out.push_str(n);
        }
        Ok(())
    }

    fn window(&mut self) -> Result<()> {
        match self.u.int_in_range(0..=4)? {
            0 => {
                let d = self.duration()?;
                let _ = write!(self.out, "within {d}");
            }
            1 => {
                let a = self.time_point()?;
                let b = self.time_point()?;
                let _ = write!(self.out, "between {a} and {b}");
            }
            2 => {
                let a = self.time_point()?;
                let _ = write!(self.out, "since {a}");
            }
            3 => {
                let a = self.time_point()?;
                let _ = write!(self.out, "before {a}");
            }
            _ => self.out.push_str("ever"),
        }
        Ok(())
    }

    fn time_point(&mut self) -> Result<String> {
        Ok(match self.u.int_in_range(0..=3)? {
            0 => "now".into(),
            1 => format!("{} ago", self.duration()?),
            2 => {
                let y = self.u.int_in_range(0..=9999)?;
                let m = self.u.int_in_range(0..=13)?;
                let d = self.u.int_in_range(0..=32)?;
                format!("{y:04}-{m:02}-{d:02}")
            }
            _ => {
                let y = self.u.int_in_range(1900..=2100)?;
                let h = self.u.int_in_range(0..=25)?;
                format!("{y:04}-06-15T{h:02}:30:00Z")
            }
        })
    }

    fn duration(&mut self) -> Result<String> {
        let n: u64 = if self.u.ratio(1, 10)? {
            self.u.arbitrary()?
        } else {
            self.u.int_in_range(0..=400)?
        };
        let unit = self.pick(&["h", "d", "w", "mo", "y", " days", " month"])?;
        Ok(format!("{n}{unit}"))
    }

    fn fixed_duration(&mut self) -> Result<String> {
        let n = self.u.int_in_range(1..=400)?;
        let unit = self.pick(&["h", "d", "w", " days"])?;
        Ok(format!("{n}{unit}"))
    }

    fn number(&mut self) -> Result<String> {
        if self.u.ratio(9, 10)? {
            return Ok(self.u.int_in_range(0u32..=1000)?.to_string());
        }
        Ok(match self.u.int_in_range(0..=4)? {
            0 => self.u.int_in_range(0u32..=1000)?.to_string(),
            1 => format!(
                "{}.{}",
                self.u.int_in_range(0u32..=99)?,
                self.u.int_in_range(0u32..=99)?
            ),
            2 => self.u.arbitrary::<u64>()?.to_string(),
            3 => "1".repeat(self.u.int_in_range(1..=400)?),
            _ => "0".into(),
        })
    }

    fn regex(&mut self) -> Result<String> {
        let body = self.pick(&[
            "(chief|ceo)",
            "^a.*b$",
            "\\bvp\\b",
            "[",
            "a{1000}{1000}",
            "(a|b)*c",
            "\\/x",
            "(?i)Ø",
            ".{0,65535}",
            "\\p{L}+",
        ])?;
        let flags = self.pick(&["", "i", "x", "q"])?;
        Ok(format!("/{body}/{flags}"))
    }

    fn string_body(&mut self) -> Result<String> {
        if self.u.ratio(1, 2)? {
            return Ok(self.pick(NASTY)?.to_string());
        }
        let n = self.u.int_in_range(0..=8)?;
        let mut s = String::new();
        for _ in 0..n {
            s.push(self.u.arbitrary::<char>()?);
        }
        Ok(s)
    }

    /// A string literal, escaped the way the grammar wants.
    fn string(&mut self) -> Result<String> {
        let body = self.string_body()?;
        let mut lit = String::from("\"");
        for c in body.chars() {
            match c {
                '"' => lit.push_str("\\\""),
                '\\' => lit.push_str("\\\\"),
                '\n' => lit.push_str("\\n"),
                '\r' => lit.push_str("\\r"),
                '\t' => lit.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(lit, "\\u{{{:x}}}", c as u32);
                }
                c => lit.push(c),
            }
        }
        lit.push('"');
        Ok(lit)
    }
}
