//! Every ```` ```funnel ```` block of `docs/*.md` is a complete file: it parses, and it
//! checks with no error. Blocks are loaded as if they were the Markdown file itself, so
//! `use "../examples/b2b/schema.funnel"` resolves from `docs/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use funnel::syntax::load_source;
use funnel::syntax::loader::DiskFs;

/// The ```` ```funnel ```` blocks of a Markdown text, with the line each starts on.
fn funnel_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```funnel") => current = Some((i + 2, String::new())),
            Some(_) if fence.starts_with("```") => out.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "unclosed ```funnel block");
    out
}

#[test]
fn every_funnel_block_in_the_docs_checks() {
    let root = common::root();
    let mut report = String::new();
    let mut blocks = 0;
    for md in common::files_with_ext(&root.join("docs"), "md") {
        let markdown = std::fs::read_to_string(&md).unwrap();
        for (line, text) in funnel_blocks(&markdown) {
            blocks += 1;
            let name = format!("{}:{line}", md.display());
            let loaded = load_source(&DiskFs, &root, &md, &name, &text);
            let checked = funnel::check::check(&loaded);
            let errors: Vec<_> = checked
                .diagnostics
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            if !errors.is_empty() {
                report.push_str(&format!(
                    "block at {name}:\n{}",
                    common::show(&loaded.sources, &errors)
                ));
            }
        }
    }
    assert!(blocks >= 20, "found only {blocks} funnel blocks");
    assert!(report.is_empty(), "{report}");
}

#[test]
fn block_extraction() {
    let md = "text\n```funnel\nsegment a = x\n```\n```text\nsegment = =\n```\n```funnel\n```\n";
    assert_eq!(
        funnel_blocks(md),
        [(3, "segment a = x\n".to_string()), (9, String::new())]
    );
}
