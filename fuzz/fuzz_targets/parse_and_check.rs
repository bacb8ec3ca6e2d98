//! Fuzz target `parse_and_check`: see `funnel_fuzz::checks::parse_and_check`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| funnel_fuzz::checks::parse_and_check(data));
