//! Fuzz target `sql_gen`: see `funnel_fuzz::checks::sql_gen`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| funnel_fuzz::checks::sql_gen(data));
