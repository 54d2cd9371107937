#![no_main]

// The property is in `calconnect_ews::fuzzing::check_pox_answer`, which a crate test replays over corpus/autodiscover_pox/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_ews::fuzzing::check_pox_answer(data));
