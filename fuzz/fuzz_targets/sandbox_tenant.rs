#![no_main]

// The property is in `calconnect_sandbox::tenant::fuzzing::check_tenant_toml`, which a crate test replays over corpus/sandbox_tenant/.
libfuzzer_sys::fuzz_target!(
    |data: &[u8]| calconnect_sandbox::tenant::fuzzing::check_tenant_toml(data)
);
