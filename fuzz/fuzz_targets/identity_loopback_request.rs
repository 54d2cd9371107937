#![no_main]

// The property is in `calconnect_identity::fuzzing::check_loopback_request`, which a crate test replays over corpus/identity_loopback_request/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_identity::fuzzing::check_loopback_request(data));
