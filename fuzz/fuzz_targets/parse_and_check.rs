//! Fuzz target: any bytes, as a rule file next to the B2B example's files, through the
//! loader, the parser and the checker. Must never panic, and every diagnostic's span
//! must lie inside its file on character boundaries.

#![no_main]

use funnel::syntax::load_source;
use funnel::syntax::loader::MemoryFs;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const SCHEMA: &str = include_str!("../../examples/b2b/schema.funnel");
const SCORES: &str = include_str!("../../examples/b2b/scores.funnel");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root = Path::new("/project");
    let mut fs = MemoryFs::new();
    fs.insert(root.join("schema.funnel"), SCHEMA);
    fs.insert(root.join("scores.funnel"), SCORES);
    let loaded = load_source(&fs, root, &root.join("fuzz.funnel"), "fuzz.funnel", text);
    let checked = funnel::check::check(&loaded);
    for d in &checked.diagnostics {
        let file = loaded.sources.get(d.span.file).expect("diagnostic in an unknown file");
        for span in std::iter::once(d.span).chain(d.related.iter().map(|l| l.span)) {
            let r = span.range();
            assert!(r.start <= r.end && r.end <= file.text.len(), "span outside its file: {d:?}");
            assert!(file.text.is_char_boundary(r.start) && file.text.is_char_boundary(r.end), "{d:?}");
        }
    }
});
