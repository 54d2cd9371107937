#![no_main]

// The property is in `calconnect_ews::fuzzing::check_soap_response`, which a crate test replays over corpus/ews_soap_response/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_ews::fuzzing::check_soap_response(data));
