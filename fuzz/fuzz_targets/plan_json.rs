//! Fuzz target `plan_json`: see `funnel_fuzz::checks::plan_json`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| funnel_fuzz::checks::plan_json(data));
