#![no_main]

// The property is in `calconnect_ews::fuzzing::check_ntlm_challenge`, which a crate test replays over corpus/ntlm_challenge/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_ews::fuzzing::check_ntlm_challenge(data));
