//! Structure-aware rule files for fuzzing: the fuzzer's bytes choose productions of the
//! Funnel grammar (definitions, expressions, streams, windows, literals), so nearly every
//! input parses and most check, and the checker, planner, formatter and SQL compiler see
//! deep programs rather than syntax errors.
//!
//! The generator types what it writes the way the checker does: a condition where a
//! condition is wanted, a number where a number is, durations compared with durations,
//! dates with dates; names refer to a fixed schema ([`SCHEMA`]) and to definitions of the
//! right kind made earlier in the same file; ranges, windows and bands are in order.
//! Now and then ([`Gen::mistake`], about one site in a hundred) it makes a deliberate
//! mistake instead — an unknown or later name, a value the enum lacks, a reversed range
//! or window, a regex too big or malformed, a number or duration past its limit — so the
//! checker's errors are exercised too, while most files check (`tests/fuzz_corpus.rs`
//! holds that above half). String literals hold hostile text (control characters,
//! quotes, backslashes, `psql` meta-commands).
//!
//! Shared by the fuzz targets (`fuzz/`) and the corpus replay test (`tests/fuzz_corpus.rs`).

use arbitrary::{Result, Unstructured};
use std::fmt::Write;

/// The schema of every generated rule file, which `use`s it as `schema.funnel`.
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
/// The aggregates that give a number (`first_time` and `last_time` give a moment).
const AGGS: &[&str] = &[
    "count",
    "count_distinct",
    "sum",
    "min",
    "max",
    "avg",
    "first",
    "last",
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

/// Generates one rule file (`use "schema.funnel"`, then definitions) from the fuzzer's
/// bytes; [`SCHEMA`] is `schema.funnel`.
pub fn rule_file(u: &mut Unstructured<'_>) -> Result<String> {
    let mut g = Gen {
        out: String::from("use \"schema.funnel\"\n"),
        bools: Vec::new(),
        nums: Vec::new(),
        signals: Vec::new(),
        scores: Vec::new(),
        tiers: Vec::new(),
        acct_bools: Vec::new(),
        acct_nums: Vec::new(),
        nasty_used: [false; NASTY_IDENTS.len()],
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
    /// Contact conditions defined so far (segments, yes-or-no values, signals).
    bools: Vec<String>,
    /// Contact numbers defined so far (numeric values, scores).
    nums: Vec<String>,
    /// Signals so far, with the event type they filter.
    signals: Vec<(String, &'static str)>,
    /// Scores so far, with their range when they have one (for tiers).
    scores: Vec<(String, Option<(i64, i64)>)>,
    /// Tiers so far, with their number of bands.
    tiers: Vec<(String, u32)>,
    /// Account conditions and numbers so far (read as `account.name`).
    acct_bools: Vec<String>,
    acct_nums: Vec<String>,
    nasty_used: [bool; NASTY_IDENTS.len()],
    u: &'a mut Unstructured<'b>,
}

/// The numeric fields of each event type.
fn num_fields(ev: &str) -> &'static [&'static str] {
    match ev {
        "page_viewed" => &["seconds"],
        "purchased" => &["amount"],
        _ => &[],
    }
}

impl Gen<'_, '_> {
    fn pick<'s>(&mut self, xs: &[&'s str]) -> Result<&'s str> {
        Ok(*self.u.choose(xs)?)
    }

    /// Whether to make a deliberate mistake here (about one time in a hundred).
    /// (Never once the input is used up: `arbitrary` then answers every `ratio` with yes.)
    fn mistake(&mut self) -> Result<bool> {
        self.chance(1, 100)
    }

    /// True about `n` times in `d`, and false once the input is used up.
    fn chance(&mut self, n: u8, d: u8) -> Result<bool> {
        Ok(!self.u.is_empty() && self.u.ratio(n, d)?)
    }

    fn name(&mut self, i: u32, kind: &str) -> Result<String> {
        if self.chance(1, 12)? {
            let k = self.u.choose_index(NASTY_IDENTS.len())?;
            if !self.nasty_used[k] || self.mistake()? {
                self.nasty_used[k] = true;
                return Ok(NASTY_IDENTS[k].to_string());
            }
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
        match self.u.int_in_range(0..=10)? {
            0 | 1 => self.signal(i)?,
            2 => {
                let name = self.name(i, "val")?;
                let _ = write!(self.out, "value {name} = ");
                if self.u.arbitrary()? {
                    self.num(0)?;
                    self.nums.push(name);
                } else {
                    self.cond(0)?;
                    self.bools.push(name);
                }
            }
            3 => {
                let name = self.name(i, "top")?;
                let n = if self.mistake()? {
                    0
                } else {
                    self.u.int_in_range(1..=5)?
                };
                let _ = write!(self.out, "segment {name} = top {n} by ");
                self.num(0)?;
                self.bools.push(name);
            }
            4 | 5 => self.score(i)?,
            6 => self.tiers(i)?,
            7 => {
                let name = self.name(i, "persona")?;
                let _ = writeln!(self.out, "personas {name} {{");
                for p in 0..self.u.int_in_range(1..=3)? {
                    self.comment()?;
                    let _ = write!(self.out, "  p{p} = ");
                    self.cond(0)?;
                    self.out.push('\n');
                }
                self.out.push('}');
            }
            8 => {
                let name = self.name(i, "acct")?;
                if self.u.arbitrary()? {
                    let _ = write!(self.out, "account score {name} = sum(");
                    self.num(2)?;
                    self.out.push(')');
                    self.acct_nums.push(name);
                } else {
                    let _ = write!(self.out, "account segment {name} = count(contacts where ");
                    self.cmp_field()?;
                    let n = self.u.int_in_range(0..=3)?;
                    let _ = write!(self.out, ") >= {n}");
                    self.acct_bools.push(name);
                }
            }
            _ => {
                let name = self.name(i, "seg")?;
                let _ = write!(self.out, "segment {name} = ");
                self.cond(0)?;
                self.bools.push(name);
            }
        }
        Ok(())
    }

    fn signal(&mut self, i: u32) -> Result<()> {
        let name = self.name(i, "sig")?;
        let (source, ev) = if !self.signals.is_empty() && self.u.ratio(1, 3)? {
            self.u.choose(&self.signals)?.clone()
        } else {
            let ev = self.pick(&EVENTS[..3])?;
            (ev.to_string(), ev)
        };
        let _ = write!(self.out, "signal {name} = {source}");
        if self.u.arbitrary()? {
            self.out.push_str(" where ");
            self.filter(ev, 0)?;
        }
        self.signals.push((name.clone(), ev));
        self.bools.push(name);
        Ok(())
    }

    fn score(&mut self, i: u32) -> Result<()> {
        let name = self.name(i, "score")?;
        let _ = write!(self.out, "score {name}");
        let mut range = None;
        if self.u.arbitrary()? {
            let lo: i64 = self.u.int_in_range(-10..=10)?;
            let hi = if self.mistake()? {
                lo - 1
            } else {
                lo + i64::from(self.u.int_in_range(1u8..=200)?)
            };
            let _ = write!(self.out, " in {lo}..{hi}");
            range = Some((lo, hi));
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
                    let p = self.u.int_in_range(1..=99)?;
                    let d = self.fixed_duration()?;
                    let _ = writeln!(self.out, "  decay {p}% every {d}");
                }
                _ => {}
            }
            for g in 0..self.u.int_in_range(1..=5)? {
                self.comment()?;
                if self.u.ratio(1, 6)? {
                    let _ = writeln!(self.out, "  group g{g} {{");
                    for _ in 0..self.u.int_in_range(1..=2)? {
                        self.score_rule()?;
                    }
                    self.out.push_str("  }\n");
                } else {
                    self.score_rule()?;
                }
            }
            self.out.push('}');
        }
        self.nums.push(name.clone());
        self.scores.push((name, range));
        Ok(())
    }

    fn score_rule(&mut self) -> Result<()> {
        let sign = self.pick(&["+", "-"])?;
        let pts = self.u.int_in_range(0..=50)?;
        if self.u.arbitrary()? {
            let (source, ev) = self.source()?;
            let mul = if ev == "purchased" && self.u.arbitrary()? {
                " * amount"
            } else {
                ""
            };
            let _ = write!(self.out, "  {sign}{pts}{mul} per {source}");
            if ev != "event" && self.u.arbitrary()? {
                self.out.push_str(" where ");
                self.filter(ev, 0)?;
            }
            if self.u.arbitrary()? {
                self.out.push(' ');
                self.window()?;
            }
        } else {
            let _ = write!(self.out, "  {sign}{pts} if ");
            self.cond(1)?;
        }
        if self.u.ratio(1, 3)? {
            let cap = self.u.int_in_range(1..=100)?;
            let _ = write!(self.out, ", at most {cap}");
        }
        self.out.push('\n');
        Ok(())
    }

    /// Bands of the last score: contiguous, and covering its range when it has one.
    fn tiers(&mut self, i: u32) -> Result<()> {
        let Some((score, range)) = self.scores.last().cloned() else {
            return self.signal(i);
        };
        let name = self.name(i, "tier")?;
        let _ = write!(self.out, "tiers {name} of {score} {{ ");
        let n = self.u.int_in_range(1..=4)?;
        let (mut lo, end) = match range {
            Some((lo, hi)) => (lo, Some(hi)),
            None => (self.u.int_in_range(-2..=2)?, None),
        };
        for b in 0..n {
            let mut hi = lo + i64::from(self.u.int_in_range(0u8..=40)?);
            if let Some(end) = end {
                hi = if b + 1 == n { end } else { hi.min(end) };
            }
            let _ = write!(self.out, "b{b} {lo}..{hi}, ");
            if end.is_some_and(|end| hi >= end) {
                break;
            }
            lo = hi + 1;
            if self.mistake()? {
                lo += 1;
            }
        }
        self.out.push('}');
        self.tiers.push((name, n));
        Ok(())
    }

    /// A condition, up to a few levels deep.
    fn cond(&mut self, depth: u32) -> Result<()> {
        if depth > 3 || self.u.ratio(1, 2)? {
            return self.atom(depth);
        }
        match self.u.int_in_range(0..=5)? {
            0 | 1 => {
                let op = self.pick(&[" and ", " or "])?;
                self.cond(depth + 1)?;
                for _ in 0..self.u.int_in_range(1..=3)? {
                    self.out.push_str(op);
                    self.cond(depth + 1)?;
                }
            }
            2 => {
                self.out.push_str("not ");
                self.cond(depth + 1)?;
            }
            3 => {
                self.out.push('(');
                self.cond(depth + 1)?;
                self.out.push(')');
            }
            4 => self.num_cmp(depth + 1)?,
            _ => self.cmp_field()?,
        }
        Ok(())
    }

    /// `number op number`.
    fn num_cmp(&mut self, depth: u32) -> Result<()> {
        self.num(depth)?;
        let op = self.pick(&[" > ", " >= ", " < ", " <= ", " = ", " != "])?;
        self.out.push_str(op);
        self.num(depth)
    }

    /// A number: literals, numeric fields, aggregates, numeric definitions (as of an
    /// earlier moment too), account numbers, arithmetic.
    fn num(&mut self, depth: u32) -> Result<()> {
        if self.mistake()? {
            // A condition, a duration or an unknown name where a number is wanted.
            let wrong = self.pick(&["client", "term", "undefined", "score99"])?;
            self.out.push_str(wrong);
            return Ok(());
        }
        match self.u.int_in_range(0..=8)? {
            0 => {
                let n = self.number()?;
                self.out.push_str(&n);
            }
            1 => {
                let f = self.pick(NUM_FIELDS)?;
                self.out.push_str(f);
            }
            2 | 3 => self.aggregate()?,
            4 if !self.nums.is_empty() => {
                let s = self.u.choose(&self.nums)?.clone();
                self.out.push_str(&s);
                if self.u.ratio(1, 3)? {
                    let t = self.time_point()?;
                    let _ = write!(self.out, "({t})");
                }
            }
            5 if !self.acct_nums.is_empty() => {
                let s = self.u.choose(&self.acct_nums)?.clone();
                let _ = write!(self.out, "account.{s}");
            }
            6 if depth < 4 => {
                self.out.push('-');
                self.num(depth + 1)?;
            }
            7 if depth < 4 => {
                self.out.push('(');
                self.num(depth + 1)?;
                let op = self.pick(&[" + ", " - ", " * ", " / "])?;
                self.out.push_str(op);
                self.num(depth + 1)?;
                self.out.push(')');
            }
            _ => {
                let f = self.pick(NUM_FIELDS)?;
                self.out.push_str(f);
            }
        }
        Ok(())
    }

    /// A duration: `time_since` of a moment, or the `term` attribute.
    fn dur(&mut self) -> Result<()> {
        match self.u.int_in_range(0..=3)? {
            0 => self.out.push_str("term"),
            1 => self.out.push_str("time_since(born)"),
            2 => self.out.push_str("time_since(seen)"),
            _ => {
                let ev = self.pick(EVENTS)?;
                let f = self.pick(&["last_time", "first_time"])?;
                let _ = write!(self.out, "time_since({f}({ev}))");
            }
        }
        Ok(())
    }

    fn atom(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=15)? {
            0 => self.cmp_field()?,
            1 => {
                let f = self.pick(&["title", "size", "born", "seen", "account", "term"])?;
                let t = self.pick(&["is missing", "is present"])?;
                let _ = write!(self.out, "{f} {t}");
            }
            2..=4 => {
                // A `where` extends as far as it can: parenthesise a filtered stream.
                let at = self.out.len();
                let no = depth % 3 == 2;
                if no {
                    self.out.push_str("no ");
                }
                if self.stream(!no)? {
                    self.out.insert(at, '(');
                    self.out.push(')');
                }
            }
            5 => self.history()?,
            6 => {
                // A moment compared with one of its own kind.
                let op = self.pick(&["<", ">=", "=", "!="])?;
                if self.u.arbitrary()? {
                    let d = self.date()?;
                    let _ = write!(self.out, "born {op} {d}");
                } else {
                    let t = self.timestamp()?;
                    let _ = write!(self.out, "seen {op} {t}");
                }
            }
            7 => {
                if self.u.arbitrary()? {
                    let t = self.enum_value(&["key", "standard"], "gold")?;
                    let _ = write!(self.out, "account.tier = {t}");
                } else {
                    let f = self.pick(&["account.industry", "account.name"])?;
                    let s = self.string()?;
                    let _ = write!(self.out, "{f} = {s}");
                }
            }
            8 => {
                let b = self.pick(&["client", "true", "false", "not client"])?;
                self.out.push_str(b);
            }
            9 if depth < 4 => self.num_cmp(depth + 1)?,
            10 => {
                self.dur()?;
                let op = self.pick(&[" > ", " <= ", " < "])?;
                self.out.push_str(op);
                if self.u.ratio(1, 4)? {
                    self.dur()?;
                } else {
                    let d = self.fixed_duration()?;
                    self.out.push_str(&d);
                }
            }
            11 => {
                let r = self.enum_value(&["emea", "amer", "apac"], "mars")?;
                let not = if self.u.arbitrary()? { "not " } else { "" };
                let _ = write!(self.out, "region {not}in ({r})");
            }
            12 if !self.tiers.is_empty() => {
                let (t, n) = self.u.choose(&self.tiers)?.clone();
                let b = self.u.int_in_range(0..=n.saturating_sub(1))?;
                let _ = write!(self.out, "{t} = b{b}");
            }
            13 if !self.acct_bools.is_empty() => {
                let s = self.u.choose(&self.acct_bools)?.clone();
                let _ = write!(self.out, "account.{s}");
            }
            _ => self.bool_ref()?,
        }
        Ok(())
    }

    /// `stage was …`, `stage changed …`, `stage(t) = …`.
    fn history(&mut self) -> Result<()> {
        let v = self.enum_value(&["lead", "mql", "customer"], "nope")?;
        match self.u.int_in_range(0..=3)? {
            0 => {
                let _ = write!(self.out, "stage was {v}");
            }
            1 => {
                let _ = write!(self.out, "stage changed to {v}");
            }
            2 => {
                let to = self.enum_value(&["mql", "customer"], "lead")?;
                let _ = write!(self.out, "stage changed from lead to {to}");
            }
            _ => {
                let t = self.time_point()?;
                let _ = write!(self.out, "stage({t}) = {v}");
                return Ok(());
            }
        }
        if self.u.arbitrary()? {
            self.out.push(' ');
            self.window()?;
        }
        Ok(())
    }

    /// One of `values`, or now and then `wrong` (not a value of the enum).
    fn enum_value(&mut self, values: &[&'static str], wrong: &'static str) -> Result<&'static str> {
        if self.mistake()? {
            return Ok(wrong);
        }
        self.pick(values)
    }

    /// A condition defined earlier (or, now and then, an unknown or later name).
    fn bool_ref(&mut self) -> Result<()> {
        if self.bools.is_empty() || self.mistake()? {
            let n = if self.bools.is_empty() && !self.mistake()? {
                "client"
            } else {
                self.pick(&["seg0", "seg11", "undefined", "account.acct7", "sig3"])?
            };
            self.out.push_str(n);
        } else {
            let d = self.u.choose(&self.bools)?.clone();
            self.out.push_str(&d);
        }
        Ok(())
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
                let hi = if self.mistake()? {
                    lo - 1
                } else {
                    lo + self.u.int_in_range(0i32..=500)?
                };
                let _ = write!(self.out, "size in {lo}..{hi}");
            }
            4 => {
                let s1 = self.string()?;
                let s2 = self.string()?;
                let _ = write!(self.out, "title in ({s1}, {s2})");
            }
            5 => {
                let v = self.enum_value(&["lead", "mql", "customer"], "nope")?;
                let _ = write!(self.out, "stage = {v}");
            }
            _ => {
                let d = self.fixed_duration()?;
                let _ = write!(self.out, "term > {d}");
            }
        }
        Ok(())
    }

    /// An event type or a signal, with the event type it reads.
    fn source(&mut self) -> Result<(String, &'static str)> {
        if !self.signals.is_empty() && self.u.ratio(1, 3)? {
            return Ok(self.u.choose(&self.signals)?.clone());
        }
        let ev = self.pick(EVENTS)?;
        Ok((ev.to_string(), ev))
    }

    /// An event stream with an optional filter, and a window, a frequency or a
    /// regularity (`counted`: a frequency or regularity may follow). Tells whether it
    /// wrote a `where`.
    fn stream(&mut self, counted: bool) -> Result<bool> {
        let (source, ev) = self.source()?;
        self.out.push_str(&source);
        let filtered = ev != "event" && self.u.arbitrary()?;
        if filtered {
            self.out.push_str(" where ");
            self.filter(ev, 0)?;
        }
        let regular = counted && self.u.ratio(1, 5)?;
        if regular {
            let b = self.u.int_in_range(1..=6)?;
            let a = self.u.int_in_range(1..=b)?;
            let unit = self.pick(&["days", "weeks", "months"])?;
            let _ = write!(self.out, " in at least {a} of the last {b} {unit}");
            return Ok(filtered);
        }
        if self.u.arbitrary()? {
            self.out.push(' ');
            self.window()?;
        }
        if counted && self.u.ratio(1, 3)? {
            let q = self.pick(&["at least", "at most", "exactly"])?;
            let n = self.u.int_in_range(1..=5)?;
            let _ = write!(self.out, " {q} {n} times");
        }
        Ok(filtered)
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
        let f = if fields.is_empty() || self.mistake()? {
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
                let v = self.enum_value(&["crm", "email"], "other")?;
                let _ = write!(self.out, "product = {v}");
            }
            "kind" => {
                let v = self.enum_value(&["hard", "soft"], "bounced")?;
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

    /// A numeric aggregate over an event stream.
    fn aggregate(&mut self) -> Result<()> {
        let agg = self.pick(AGGS)?;
        let (source, ev) = self.source()?;
        let arg = match agg {
            "count" => source,
            "count_distinct" => {
                let fields: Vec<&str> = EVENT_FIELDS
                    .iter()
                    .filter(|(e, _)| *e == ev)
                    .map(|(_, f)| *f)
                    .collect();
                if fields.is_empty() {
                    self.out.push_str("count(event)");
                    return Ok(());
                }
                let f = self.pick(&fields)?;
                format!("{source}.{f}")
            }
            _ => {
                let fields = num_fields(ev);
                if fields.is_empty() {
                    let _ = write!(self.out, "count({source})");
                    return Ok(());
                }
                let f = self.pick(fields)?;
                format!("{source}.{f}")
            }
        };
        let _ = write!(self.out, "{agg}({arg}");
        if ev != "event" && self.u.arbitrary()? {
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

    fn window(&mut self) -> Result<()> {
        match self.u.int_in_range(0..=4)? {
            0 => {
                let d = self.duration()?;
                let _ = write!(self.out, "within {d}");
            }
            1 => {
                if self.mistake()? {
                    self.out.push_str("between now and now");
                } else if self.u.arbitrary()? {
                    let b = self.u.int_in_range(0u32..=400)?;
                    let a = b + self.u.int_in_range(1u32..=400)?;
                    let _ = write!(self.out, "between {a}d ago and {b}d ago");
                } else {
                    let y = self.u.int_in_range(1990..=2030)?;
                    let _ = write!(self.out, "between {y}-01-01 and {}-06-30", y + 1);
                }
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
            2 => self.date()?,
            _ => self.timestamp()?,
        })
    }

    fn date(&mut self) -> Result<String> {
        if self.mistake()? {
            return Ok(self
                .pick(&["2026-02-30", "0000-13-00", "9999-12-32"])?
                .into());
        }
        let y = self.u.int_in_range(1900..=2100)?;
        let m = self.u.int_in_range(1..=12)?;
        let d = self.u.int_in_range(1..=28)?;
        Ok(format!("{y:04}-{m:02}-{d:02}"))
    }

    fn timestamp(&mut self) -> Result<String> {
        let y = self.u.int_in_range(1900..=2100)?;
        let h = if self.mistake()? {
            25
        } else {
            self.u.int_in_range(0..=23)?
        };
        Ok(format!("{y:04}-06-15T{h:02}:30:00Z"))
    }

    fn duration(&mut self) -> Result<String> {
        let n: u64 = if self.mistake()? {
            self.u.arbitrary()?
        } else {
            self.u.int_in_range(1..=400)?
        };
        let unit = self.pick(&["h", "d", "w", "mo", "y", " days", " month"])?;
        Ok(format!("{n}{unit}"))
    }

    /// A fixed-length duration (no months or years), as decay and `time_since` want.
    fn fixed_duration(&mut self) -> Result<String> {
        let n = self.u.int_in_range(1..=400)?;
        let unit = if self.mistake()? {
            "mo"
        } else {
            self.pick(&["h", "d", "w", " days"])?
        };
        Ok(format!("{n}{unit}"))
    }

    fn number(&mut self) -> Result<String> {
        if !self.mistake()? {
            return Ok(match self.u.int_in_range(0..=9)? {
                0 => format!(
                    "{}.{}",
                    self.u.int_in_range(0u32..=99)?,
                    self.u.int_in_range(0u32..=99)?
                ),
                1 => "0".into(),
                _ => self.u.int_in_range(0u32..=1000)?.to_string(),
            });
        }
        Ok(match self.u.int_in_range(0..=1)? {
            0 => self.u.arbitrary::<u64>()?.to_string(),
            _ => "1".repeat(self.u.int_in_range(1..=400)?),
        })
    }

    fn regex(&mut self) -> Result<String> {
        if self.mistake()? {
            let body = self.pick(&["[", "a{1000}{1000}", ".{0,65535}"])?;
            let flags = self.pick(&["", "q"])?;
            return Ok(format!("/{body}/{flags}"));
        }
        let body = self.pick(&[
            "(chief|ceo)",
            "^a.*b$",
            "\\bvp\\b",
            "(a|b)*c",
            "\\/x",
            "(?i)Ø",
            "\\p{L}+",
            "x{2,5}",
        ])?;
        let flags = self.pick(&["", "i", "x"])?;
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
