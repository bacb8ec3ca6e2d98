//! Shared code of the fuzz targets: the grammar-based rule-file generator and the checks
//! each target makes (also replayed over the committed corpus by `tests/fuzz_corpus.rs`).

pub mod checks;
pub mod generate;
