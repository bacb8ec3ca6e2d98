//! Fuzz target `data_readers`: see `funnel_fuzz::checks::data_readers`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| funnel_fuzz::checks::data_readers(data));
