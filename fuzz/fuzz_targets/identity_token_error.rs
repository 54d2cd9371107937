#![no_main]

// The property is in `calconnect_identity::fuzzing::check_token_error`, which a crate test replays over corpus/identity_token_error/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_identity::fuzzing::check_token_error(data));
