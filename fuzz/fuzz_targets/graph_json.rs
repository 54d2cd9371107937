#![no_main]

// The property is in `calconnect_graph::fuzzing::check_graph_json`, which a crate test replays over corpus/graph_json/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| calconnect_graph::fuzzing::check_graph_json(data));
