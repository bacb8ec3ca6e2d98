//! Fuzz target `rules_gen`: see `funnel_fuzz::checks::rules_gen`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| funnel_fuzz::checks::rules_gen(data));
