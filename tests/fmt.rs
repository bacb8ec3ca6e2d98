//! `funnel fmt`: every example and docs block is already formatted; formatting is
//! canonical (messed-up layouts of the examples format back to the same text), keeps
//! every comment, and keeps the program (same plan); snapshots of messy files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use funnel::syntax::loader::{DiskFs, MemoryFs, load_source};
use funnel::syntax::{FileId, format_source, parse_file};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fmt(text: &str) -> String {
    format_source(FileId(0), text).unwrap_or_else(|e| {
        let _ = std::fs::write(std::env::temp_dir().join("funnel-fmt-failure.funnel"), text);
        panic!("{e:?} formatting:\n{text}")
    })
}

fn comments(text: &str) -> Vec<String> {
    let (file, _) = parse_file(FileId(0), text);
    file.comments
        .iter()
        .map(|c| c.text.trim_end().to_string())
        .collect()
}

/// A plan as JSON without the score rules' labels (they quote the source as written).
fn unlabelled(plan: &funnel::plan::Plan) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("label");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    strip(&mut v);
    v
}

/// The plan of a program whose entry file (at `path`) has the text `text`.
fn plan(path: &Path, text: &str) -> serde_json::Value {
    let root = common::root();
    let loaded = load_source(&DiskFs, &root, path, "entry", text);
    let checked = funnel::check::check(&loaded);
    let program = checked.program.unwrap_or_else(|| {
        panic!(
            "does not check:\n{}",
            common::show(&loaded.sources, &checked.diagnostics)
        )
    });
    unlabelled(&funnel::plan::lower(&program))
}

/// Every example file, every ```funnel block of the docs, the messy files of
/// `tests/fmt/` and the rules of every conformance case, with the path each is loaded
/// from.
fn corpus() -> Vec<(PathBuf, String)> {
    let root = common::root();
    let mut out: Vec<(PathBuf, String)> = common::files_with_ext(&root.join("examples"), "funnel")
        .into_iter()
        .chain(common::files_with_ext(&root.join("tests/fmt"), "funnel"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    for case in common::files_with_ext(&root.join("tests/conformance"), "case") {
        let text = std::fs::read_to_string(&case).unwrap();
        if let Some((_, rest)) = text.split_once("=== rules\n") {
            let rules = rest.split("\n=== ").next().unwrap_or_default();
            // loaded like the conformance runner does: as `case/rules.funnel` beside the schema
            let entry = root.join("tests/conformance/case/rules.funnel");
            out.push((entry, format!("{}\n", rules.trim_end())));
        }
    }
    for md in common::files_with_ext(&root.join("docs"), "md") {
        let markdown = std::fs::read_to_string(&md).unwrap();
        let mut block: Option<String> = None;
        for line in markdown.lines() {
            match &mut block {
                None if line.trim_start().starts_with("```funnel") => block = Some(String::new()),
                Some(_) if line.trim_start().starts_with("```") => {
                    out.extend(block.take().map(|b| (md.clone(), b)));
                }
                Some(b) => {
                    b.push_str(line);
                    b.push('\n');
                }
                None => {}
            }
        }
    }
    out
}

/// Formats the ```funnel blocks of a Markdown text.
fn format_markdown(markdown: &str) -> String {
    let mut out = String::new();
    let mut block: Option<String> = None;
    for line in markdown.split_inclusive('\n') {
        match &mut block {
            None if line.trim_start().starts_with("```funnel") => {
                out.push_str(line);
                block = Some(String::new());
            }
            Some(b) if line.trim_start().starts_with("```") => {
                out.push_str(&fmt(b));
                out.push_str(line);
                block = None;
            }
            Some(b) => b.push_str(line),
            None => out.push_str(line),
        }
    }
    out
}

/// With `FUNNEL_FMT_BLESS=1`, formats the examples and the docs' blocks in place (after
/// a merge brings in new ones), then checks them.
#[test]
fn examples_and_docs_are_formatted() {
    let root = common::root();
    if std::env::var_os("FUNNEL_FMT_BLESS").is_some() {
        for path in common::files_with_ext(&root.join("examples"), "funnel") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, fmt(&text)).unwrap();
        }
        for path in common::files_with_ext(&root.join("docs"), "md") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format_markdown(&text)).unwrap();
        }
    }
    let mut unformatted = Vec::new();
    let mut n = 0;
    for (path, text) in corpus() {
        if path.starts_with(root.join("tests")) {
            continue;
        }
        n += 1;
        let formatted = fmt(&text);
        if formatted != text {
            unformatted.push(format!(
                "{}:\n{}",
                path.display(),
                funnel::cli::fmt::diff("as is", &text, &formatted)
            ));
        }
    }
    assert!(n >= 30, "found only {n} files and blocks");
    assert!(
        unformatted.is_empty(),
        "run `FUNNEL_FMT_BLESS=1 cargo test --test fmt examples_and_docs` to format these:\n{}",
        unformatted.join("\n")
    );
}

#[test]
fn formatting_keeps_comments_and_the_plan() {
    for (path, text) in corpus() {
        let once = fmt(&text);
        assert_eq!(fmt(&once), once, "not idempotent on {}", path.display());
        assert_eq!(comments(&once), comments(&text), "{}", path.display());
        // the same text is trivially the same program
        if once != text {
            assert_eq!(plan(&path, &once), plan(&path, &text), "{}", path.display());
        }
    }
}

#[test]
fn messy_files() {
    let root = common::root();
    for path in common::files_with_ext(&root.join("tests/fmt"), "funnel") {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(name, fmt(&text));
    }
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    let err = format_source(FileId(0), "segment a = x ==  3\n").unwrap_err();
    assert!(matches!(err, funnel::syntax::FormatError::Syntax(d) if !d.is_empty()));
}

#[test]
fn edge_layouts() {
    let cases = [
        ("", ""),
        ("# only a comment", "# only a comment\n"),
        (
            "\n\n\nsegment a = x\n\n\n\nsegment b = y\n\n",
            "segment a = x\n\nsegment b = y\n",
        ),
        (
            "segment a = x # one\nsegment b = y # two\n",
            "segment a = x  # one\nsegment b = y  # two\n",
        ),
        (
            "personas p {}\ntiers t of s {}\nscore s {}\n",
            "personas p {}\ntiers t of s {}\nscore s {}\n",
        ),
        ("segment a = x\r\n  or y\r\n", "segment a = x or y\n"),
        (
            "segment a = (x or\n# why\ny) and z\n",
            "segment a =\n  (x\n    # why\n    or y)\n  and z\n",
        ),
        (
            "segment a = x at least 3 times within 30d\n",
            "segment a = x at least 3 times within 30d\n",
        ),
        (
            "segment a = x within 30d at least 1 time\n",
            "segment a = x within 30d at least 1 time\n",
        ),
        (
            "segment a = x contains (\"a\")\n",
            "segment a = x contains \"a\"\n",
        ),
        (
            "segment a = c changed from lead to\n  mql within 1   month\n",
            "segment a = c changed from lead to mql within 1 month\n",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(input, expected)| fmt(input) != *expected)
        .map(|(input, expected)| format!("{input:?}\n  gave {:?}\n  want {expected:?}", fmt(input)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A messed-up layout of a formatted text: lines re-indented, trailing spaces, blank
/// lines made several, and some lines joined to the one before (never after a comment,
/// never a comment line).
fn mess(text: &str, choices: &[u8]) -> String {
    let mut out = String::new();
    let mut pick = choices.iter().cycle();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let c = *pick.next().unwrap();
        let trimmed = line.trim();
        let prev = if i > 0 { lines[i - 1] } else { "" };
        let joinable = i > 0
            && !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && !prev.trim().is_empty()
            && !prev.contains('#');
        if joinable && c.is_multiple_of(3) {
            out.push(' ');
        } else if i > 0 {
            out.push('\n');
        }
        out.push_str(&" ".repeat((c % 7) as usize));
        out.push_str(trimmed);
        if c.is_multiple_of(5) {
            out.push_str(" \t");
        }
        if trimmed.is_empty() && c.is_multiple_of(4) {
            out.push_str("\n  \n");
        }
    }
    out.push('\n');
    out
}

/// The corpus, read once for all the cases of a property.
static CORPUS: std::sync::LazyLock<Vec<(PathBuf, String)>> = std::sync::LazyLock::new(corpus);

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn messed_up_layouts_format_back(choices in proptest::collection::vec(any::<u8>(), 1..40), which in any::<prop::sample::Index>()) {
        let (path, text) = which.get(&CORPUS);
        let original = fmt(text);
        let messy = mess(&original, &choices);
        let formatted = fmt(&messy);
        prop_assert_eq!(&formatted, &original, "{} messed up as\n{}", path.display(), messy);
        prop_assert_eq!(fmt(&formatted), formatted.clone());
    }
}

/// Random programs over a small schema, with comments in many places.
mod generated {
    use super::*;

    const SCHEMA: &str = "contact {\n  plan: one of (free, pro, team)\n  age: int?\n  title: text?\n  stage: one of (lead, mql, sql) with history\n  account: account?\n}\naccount { tier: one of (smb, ent) }\nevent visit { url: text, secs: int? }\nevent click { link: text }\nevent buy { amount: number }\n";

    fn atom() -> BoxedStrategy<String> {
        let days = prop_oneof![Just(1u32), Just(30), Just(90)];
        prop_oneof![
            days.clone().prop_map(|d| format!("visit within {d}d")),
            days.clone().prop_map(|d| format!("click where link contains \"pri\" and link starts with (\"/a\", \"/b\") within {d}d")),
            days.clone().prop_map(|d| format!("no visit within {d}d")),
            (0u32..4).prop_map(|n| format!("buy at least {n} times")),
            (0u32..30).prop_map(|k| format!("count(visit where secs > {k} or url = \"/x\") >= 2")),
            (18u32..70).prop_map(|a| format!("age > {a}")),
            Just("age is missing".to_string()),
            Just("not (age >= 40 or plan = free)".to_string()),
            Just("title matches /^(ceo|cto)$/i".to_string()),
            Just("plan in (free, pro)".to_string()),
            days.prop_map(|d| format!("stage was mql within {d}d")),
            Just("account.tier = ent".to_string()),
            Just("sum(buy.amount between 90d ago and 30d ago) > 100".to_string()),
        ]
        .boxed()
    }

    /// A condition: atoms joined by `and` / `or`, with parentheses and comments.
    pub fn cond() -> BoxedStrategy<String> {
        atom()
            .prop_recursive(3, 24, 4, |inner| {
                (
                    proptest::collection::vec((inner, any::<u8>()), 2..5),
                    any::<bool>(),
                )
                    .prop_map(|(parts, and)| {
                        let op = if and { "and" } else { "or" };
                        let mut s = String::from("(");
                        for (k, (p, c)) in parts.iter().enumerate() {
                            if k > 0 {
                                match c % 4 {
                                    0 => s.push_str(&format!("\n  # note {c}\n  {op} ")),
                                    1 => s.push_str(&format!(" # trailing {c}\n  {op} ")),
                                    _ => s.push_str(&format!(" {op} ")),
                                }
                            }
                            s.push_str(p);
                        }
                        s.push(')');
                        s
                    })
            })
            .boxed()
    }

    pub fn program() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec((cond(), any::<u8>()), 1..5),
            cond(),
            cond(),
            any::<u8>(),
        )
            .prop_map(|(segs, c1, c2, k)| {
                let mut s = String::from(SCHEMA);
                for (i, (c, n)) in segs.iter().enumerate() {
                    if n % 3 == 0 {
                        s.push_str(&format!("\n# segment {i}\n"));
                    }
                    s.push_str(&format!("segment s{i} = {c}"));
                    if n % 2 == 0 {
                        s.push_str(" # after");
                    }
                    s.push('\n');
                }
                s.push_str(&format!(
                    "score sc in 0..100 {{ # rules\n  decay half_life 30d\n  +{k} per visit where url = \"/p\", at most 50\n  # a condition\n  -5 if {c1}\n  group g at most 20 {{\n    +2 * amount per buy within 90d # bought\n  }}\n}}\ntiers t of sc {{ low 0..50, high 51..100 }}\npersonas p {{\n  a = {c2} # first\n  b = s0\n}}\naccount score total = sum(sc)\n"
                ));
                s
            })
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn generated_programs(src in generated::program()) {
        let path = common::root().join("generated.funnel");
        let once = fmt(&src);
        prop_assert_eq!(fmt(&once), once.clone(), "not idempotent on\n{}", src);
        prop_assert_eq!(comments(&once), comments(&src));
        let fs = MemoryFs::new();
        let plan_of = |text: &str| {
            let loaded = load_source(&fs, &common::root(), &path, "generated.funnel", text);
            let checked = funnel::check::check(&loaded);
            checked.program.map(|p| unlabelled(&funnel::plan::lower(&p)))
        };
        let before = plan_of(&src);
        prop_assert!(before.is_some(), "does not check:\n{}", src);
        prop_assert_eq!(plan_of(&once), before);
    }
}
