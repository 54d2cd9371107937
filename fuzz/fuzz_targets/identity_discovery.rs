#![no_main]

// The property is in `calconnect_identity::fuzzing::check_discovery`, which a crate test replays over corpus/identity_discovery/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_identity::fuzzing::check_discovery(data));
