//! Property tests: random and mutated rule text never makes the front end panic, and
//! every diagnostic's span lies inside its file, on character boundaries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use funnel::syntax::loader::MemoryFs;
use funnel::syntax::{FileId, load_source, parse_file};
use proptest::prelude::*;
use std::path::Path;
use std::sync::LazyLock;

/// The example files, as (path relative to the crate, text).
static EXAMPLES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let root = common::root();
    common::files_with_ext(&root.join("examples"), "funnel")
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            (rel, text)
        })
        .collect()
});

/// Tokens worth inserting: keywords, operators, literals, broken pieces.
const TOKENS: &[&str] = &[
    "segment ",
    "score ",
    "signal ",
    "tiers ",
    "personas ",
    "account ",
    "use ",
    "event ",
    "value ",
    " and ",
    " or ",
    " not ",
    " no ",
    " in ",
    " is missing",
    " where ",
    " within ",
    " between ",
    " since ",
    " before ",
    " ever",
    " ago",
    " at least ",
    " at most ",
    " times",
    " of the last ",
    " was ",
    " changed to ",
    "(",
    ")",
    "{",
    "}",
    ",",
    "=",
    "==",
    "!=",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "..",
    "?",
    "`",
    "\"",
    "'",
    "#",
    "\n",
    "30d",
    "1 month",
    "2026-02-30",
    "2026-01-01T10:00Z",
    "99999999999999999999",
    "/re/i",
    "/",
    "%",
    "top 3 by ",
    "count(",
    "time_since(",
    "decay ",
    "half_life ",
    "every ",
    "group ",
    "at most 5",
    "+10 per ",
    "-5 if ",
    "Direktør",
    "þ",
    "é",
    "\u{feff}",
    "\u{200d}",
    "🦀",
    "\\u{110000}",
    "\\",
];

/// A char boundary at or before `i`.
fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Swap(usize, usize, usize),
    Insert(usize, usize),
    InsertChar(usize, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    let len = 0usize..40;
    prop_oneof![
        (pos, len.clone()).prop_map(|(p, l)| Mutation::Delete(p, l)),
        (pos, len.clone(), pos).prop_map(|(p, l, q)| Mutation::Duplicate(p, l, q)),
        (pos, len, pos).prop_map(|(p, l, q)| Mutation::Swap(p, l, q)),
        (pos, 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        (pos, any::<char>()).prop_map(|(p, c)| Mutation::InsertChar(p, c)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let n = text.len().max(1);
    let mut s = text.to_string();
    match *m {
        Mutation::Delete(p, l) => {
            let a = floor(&s, p % n);
            let b = floor(&s, a + l);
            s.replace_range(a..b, "");
        }
        Mutation::Duplicate(p, l, q) => {
            let a = floor(&s, p % n);
            let b = floor(&s, a + l);
            let piece = s[a..b].to_string();
            let at = floor(&s, q % n);
            s.insert_str(at, &piece);
        }
        Mutation::Swap(p, l, q) => {
            let a = floor(&s, p % n);
            let b = floor(&s, a + l);
            let c = floor(&s, q % n);
            let d = floor(&s, c + l);
            if b <= c {
                let (x, y) = (s[a..b].to_string(), s[c..d].to_string());
                s.replace_range(c..d, &x);
                s.replace_range(a..b, &y);
            }
        }
        Mutation::Insert(p, t) => {
            let at = floor(&s, p % n);
            s.insert_str(at, TOKENS[t]);
        }
        Mutation::InsertChar(p, c) => {
            let at = floor(&s, p % n);
            s.insert(at, c);
        }
    }
    s
}

/// Loads `text` as `examples/<name>` next to the unmutated examples, parses, checks, and
/// asserts every diagnostic's span is valid in its file.
fn front_end_holds(rel: &str, text: &str) -> Result<(), TestCaseError> {
    let root = Path::new("/project");
    let mut fs = MemoryFs::new();
    for (p, t) in EXAMPLES.iter() {
        fs.insert(root.join(p), t.clone());
    }
    let (_, diags) = parse_file(FileId(0), text);
    for d in &diags {
        let r = d.span.range();
        prop_assert!(
            r.start <= r.end && r.end <= text.len(),
            "span {r:?} outside the text"
        );
        prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
    }
    let loaded = load_source(&fs, root, &root.join(rel), rel, text);
    let checked = funnel::check::check(&loaded);
    for d in &checked.diagnostics {
        let file = loaded.sources.get(d.span.file);
        prop_assert!(file.is_some(), "diagnostic in an unknown file: {d:?}");
        let t = &file.unwrap().text;
        for span in std::iter::once(d.span).chain(d.related.iter().map(|l| l.span)) {
            let r = span.range();
            prop_assert!(
                r.start <= r.end && r.end <= t.len(),
                "span {r:?} outside its file: {d:?}"
            );
            prop_assert!(
                t.is_char_boundary(r.start) && t.is_char_boundary(r.end),
                "{d:?}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples(file in 0usize..64, muts in proptest::collection::vec(mutation(), 1..6)) {
        let (rel, text) = &EXAMPLES[file % EXAMPLES.len()];
        let mut t = text.clone();
        for m in &muts {
            t = apply(&t, m);
        }
        front_end_holds(rel, &t)?;
    }

    #[test]
    fn random_token_soup(toks in proptest::collection::vec(0..TOKENS.len(), 0..60), names in "[a-zæøåðþ_]{1,8}") {
        let mut t = String::new();
        for (i, k) in toks.iter().enumerate() {
            t.push_str(TOKENS[*k]);
            if i % 3 == 0 {
                t.push_str(&names);
            }
        }
        front_end_holds("examples/soup.funnel", &t)?;
    }

    #[test]
    fn random_unicode(t in "\\PC{0,200}") {
        front_end_holds("examples/random.funnel", &t)?;
    }
}
