#![no_main]

// The property is in `calconnect_vault::fuzzing::check_chunked`, which a crate test replays over corpus/vault_chunked/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_vault::fuzzing::check_chunked(data));
