//! Reading a test file (`*.funnel-test`, `docs/testing.md`): line by line, each
//! directive, table and expectation keeping its line number for messages.

use super::super::rules::parse_time;
use chrono::{DateTime, TimeDelta, Utc};

/// A parsed test file.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFile {
    /// The rule file under test, relative to the test file.
    pub rules: Option<(String, usize)>,
    /// What the tests share unless they say otherwise.
    pub setup: Setup,
    pub tests: Vec<Test>,
}

/// `now`, a data folder and inline tables, at file level or for one test.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Setup {
    pub now: Option<DateTime<Utc>>,
    /// A data folder relative to the test file, with its line.
    pub data: Option<(String, usize)>,
    pub contacts: Option<Table>,
    pub accounts: Option<Table>,
    pub events: Option<Table>,
    pub changes: Option<Table>,
}

/// An inline table: CSV lines, each with its line in the test file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub lines: Vec<(usize, String)>,
}

/// One named test.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub name: String,
    pub line: usize,
    pub setup: Setup,
    pub expects: Vec<Expect>,
}

/// Whose result an expectation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Contact(String),
    Account(String),
}

/// What an expectation claims about one definition's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// `in segment` / `not in segment`
    Member(bool),
    /// `name = 15` or `name = 15 ± 0.5`
    Number { value: f64, tolerance: f64 },
    /// `name in 10..20`
    Range(f64, f64),
    /// `name = label` (a tier, a persona, a text value)
    Label(String),
    /// `name is missing` / `name is none`
    Missing,
}

/// When an expectation is evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AsOf {
    At(DateTime<Utc>),
    Ago(TimeDelta),
}

/// `expect anna sales_ready = 15 as of 30d ago`
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub line: usize,
    /// The expectation as written (for messages).
    pub text: String,
    pub subject: Subject,
    pub name: String,
    pub claim: Claim,
    pub as_of: Option<AsOf>,
}

/// A line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Splits a line into words: runs of non-space, or `"quoted text"`; `#` outside quotes
/// starts a comment.
fn words(line: &str, n: usize) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else if c == '"' {
            chars.next();
            let mut word = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => word.push(c),
                    None => {
                        return Err(err(
                            n,
                            "unclosed quote, expected `\"` before the end of the line",
                        ));
                    }
                }
            }
            out.push(word);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(word);
        }
    }
    Ok(out)
}

const TABLES: [&str; 4] = ["contacts", "accounts", "events", "changes"];

/// Parses a test file's text.
pub fn parse(text: &str) -> Result<TestFile, ParseError> {
    let mut file = TestFile {
        rules: None,
        setup: Setup::default(),
        tests: Vec::new(),
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((n, line)) = lines.next() {
        let w = words(line, n)?;
        let Some(first) = w.first() else { continue };
        let setup = match file.tests.last_mut() {
            Some(t) => &mut t.setup,
            None => &mut file.setup,
        };
        match first.as_str() {
            "rules" => {
                if !file.tests.is_empty() {
                    return Err(err(
                        n,
                        "`rules` belongs at the top of the file, before the first `test`",
                    ));
                }
                file.rules = Some((one_arg(&w, n, "rules \"rules.funnel\"")?, n));
            }
            "now" => {
                let t = one_arg(&w, n, "now 2026-11-20T00:00:00Z")?;
                setup.now = Some(parse_time(&t).map_err(|m| err(n, m))?);
            }
            "data" => setup.data = Some((one_arg(&w, n, "data \"folder\"")?, n)),
            t if TABLES.contains(&t) => {
                if w.len() > 1 {
                    return Err(err(
                        n,
                        format!(
                            "`{t}` stands alone on its line; the table's rows follow, ended by `end`"
                        ),
                    ));
                }
                let mut rows = Vec::new();
                let mut closed = false;
                for (m, row) in lines.by_ref() {
                    let trimmed = row.trim();
                    if trimmed == "end" {
                        closed = true;
                        break;
                    }
                    if !trimmed.is_empty() && !trimmed.starts_with('#') {
                        rows.push((m, trimmed.to_string()));
                    }
                }
                if !closed {
                    return Err(err(n, format!("the `{t}` table has no `end` line")));
                }
                let table = Some(Table { lines: rows });
                match t {
                    "contacts" => setup.contacts = table,
                    "accounts" => setup.accounts = table,
                    "events" => setup.events = table,
                    _ => setup.changes = table,
                }
            }
            "test" => {
                let name = one_arg(&w, n, "test \"a name\"")?;
                file.tests.push(Test {
                    name,
                    line: n,
                    setup: Setup::default(),
                    expects: Vec::new(),
                });
            }
            "expect" => {
                let Some(test) = file.tests.last_mut() else {
                    return Err(err(
                        n,
                        "an `expect` belongs to a test: start one with `test \"name\"`",
                    ));
                };
                test.expects.push(expect(&w, n, line)?);
            }
            other => {
                return Err(err(
                    n,
                    format!(
                        "unknown line starting with `{other}`, expected `rules`, `now`, `data`, a table (`contacts`, `accounts`, `events`, `changes`), `test` or `expect`"
                    ),
                ));
            }
        }
    }
    Ok(file)
}

fn one_arg(w: &[String], n: usize, example: &str) -> Result<String, ParseError> {
    match w {
        [_, arg] => Ok(arg.clone()),
        _ => Err(err(n, format!("expected one value, like `{example}`"))),
    }
}

const EXPECT_FORMS: &str = "expected `expect ID in SEGMENT`, `expect ID not in SEGMENT`, `expect ID NAME = VALUE`, `expect ID NAME in LO..HI` or `expect ID NAME is missing` (`expect account ID …` for accounts)";

/// `expect [account] ID CLAIM [as of TIME]`
fn expect(w: &[String], n: usize, line: &str) -> Result<Expect, ParseError> {
    let mut rest: Vec<&str> = w.iter().skip(1).map(String::as_str).collect();
    let mut as_of = None;
    if let Some(pos) = rest.windows(2).position(|p| p == ["as", "of"]) {
        let when: Vec<&str> = rest.split_off(pos).into_iter().skip(2).collect();
        as_of = Some(moment(&when, n)?);
    }
    let (subject, rest) = match rest.as_slice() {
        ["account", id, rest @ ..] => (Subject::Account(id.to_string()), rest),
        [id, rest @ ..] => (Subject::Contact(id.to_string()), rest),
        [] => return Err(err(n, EXPECT_FORMS)),
    };
    let (name, claim) = match rest {
        ["in", seg] => (seg.to_string(), Claim::Member(true)),
        ["not", "in", seg] => (seg.to_string(), Claim::Member(false)),
        [name, "is", "missing" | "none"] => (name.to_string(), Claim::Missing),
        [name, "in", range] => {
            let (lo, hi) = range
                .split_once("..")
                .and_then(|(a, b)| Some((a.parse::<f64>().ok()?, b.parse::<f64>().ok()?)))
                .ok_or_else(|| {
                    err(
                        n,
                        format!("`{range}` is not a range, expected `LO..HI` like `10..20`"),
                    )
                })?;
            (name.to_string(), Claim::Range(lo, hi))
        }
        [name, "=", value] => (name.to_string(), value_claim(value, 0.0)),
        [name, "=", value, "±" | "+-" | "within", tol] => {
            let tolerance = tol
                .parse::<f64>()
                .ok()
                .filter(|t| *t >= 0.0)
                .ok_or_else(|| {
                    err(
                        n,
                        format!("`{tol}` is not a tolerance, expected a number like `0.5`"),
                    )
                })?;
            match value.parse::<f64>() {
                Ok(v) => (
                    name.to_string(),
                    Claim::Number {
                        value: v,
                        tolerance,
                    },
                ),
                Err(_) => {
                    return Err(err(
                        n,
                        format!("`{value}` is not a number; a tolerance needs one"),
                    ));
                }
            }
        }
        _ if rest.contains(&"==") => {
            return Err(err(
                n,
                "compare with a single `=`: `expect ID NAME = VALUE`",
            ));
        }
        _ => return Err(err(n, EXPECT_FORMS)),
    };
    Ok(Expect {
        line: n,
        text: line.trim().to_string(),
        subject,
        name,
        claim,
        as_of,
    })
}

fn value_claim(value: &str, tolerance: f64) -> Claim {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => Claim::Number {
            value: v,
            tolerance,
        },
        _ => Claim::Label(value.to_string()),
    }
}

/// `2026-10-01`, a timestamp, or `30d ago` (hours, days or weeks).
fn moment(w: &[&str], n: usize) -> Result<AsOf, ParseError> {
    let bad = || {
        err(
            n,
            "expected a moment after `as of`, like `2026-10-01`, `2026-10-01T12:00:00Z` or `30d ago`",
        )
    };
    match w {
        [t] => parse_time(t).map(AsOf::At).map_err(|m| err(n, m)),
        [d, "ago"] => {
            let split = d.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let (amount, unit) = d.split_at(split);
            let amount: i64 = amount.parse().map_err(|_| bad())?;
            let delta = match unit {
                "h" => TimeDelta::try_hours(amount),
                "d" => TimeDelta::try_days(amount),
                "w" => TimeDelta::try_weeks(amount),
                _ => None,
            };
            delta.map(AsOf::Ago).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<Expect, ParseError> {
        let text = format!("test \"t\"\n  {line}\n");
        parse(&text).map(|f| f.tests[0].expects[0].clone())
    }

    #[test]
    fn expectations() {
        let e = one("expect account acme in hot # a comment").unwrap();
        assert_eq!(e.subject, Subject::Account("acme".into()));
        assert_eq!((e.name.as_str(), &e.claim), ("hot", &Claim::Member(true)));
        let e = one("expect ann sales_ready = 7.5 ± 0.5 as of 30d ago").unwrap();
        assert_eq!(
            e.claim,
            Claim::Number {
                value: 7.5,
                tolerance: 0.5
            }
        );
        assert_eq!(e.as_of, Some(AsOf::Ago(TimeDelta::days(30))));
        let e = one("expect \"ann b\" role is none").unwrap();
        assert_eq!(
            (e.subject, e.claim),
            (Subject::Contact("ann b".into()), Claim::Missing)
        );
        assert_eq!(
            one("expect ann s in 1..2.5").unwrap().claim,
            Claim::Range(1.0, 2.5)
        );
        assert_eq!(
            one("expect ann tier = high").unwrap().claim,
            Claim::Label("high".into())
        );
    }

    #[test]
    fn errors_name_their_line() {
        let e = one("expect ann s == 3").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("single `=`"), "{}", e.message);
        assert!(one("expect ann s = 3 as of yesterday").is_err());
        assert!(one("expect ann s in 3").is_err());
        let e = parse("contacts\n  id\n  a\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (1, "the `contacts` table has no `end` line")
        );
        let e = parse("expect a in b\n").unwrap_err();
        assert!(e.message.contains("belongs to a test"));
        let e = parse("rules \"a\"\nnow tomorrow\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn setup_belongs_to_the_file_or_the_test() {
        let f = parse("rules \"r.funnel\"\nnow 2026-01-01\ntest \"t\"\n  now 2026-02-01\n  events\n    contact_id, event, at\n  end\n").unwrap();
        assert_eq!(f.rules, Some(("r.funnel".into(), 1)));
        assert!(f.setup.now.is_some() && f.setup.events.is_none());
        let t = &f.tests[0];
        assert_ne!(t.setup.now, f.setup.now);
        assert_eq!(t.setup.events.as_ref().map(|e| e.lines.len()), Some(1));
    }
}
