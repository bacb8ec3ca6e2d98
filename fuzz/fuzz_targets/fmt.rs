//! Fuzz target `fmt`: see `funnel_fuzz::checks::fmt`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| funnel_fuzz::checks::fmt(data));
