//! The property the `sandbox_tenant` fuzz target in `fuzz/` checks, kept here so that an ordinary
//! `#[test]` replays the committed corpus (`fuzz/corpus/sandbox_tenant/`) through exactly the same code.
//!
//! Not an API: the function panics when the property is violated, which is how libFuzzer sees a failure.

use super::Tenant;

/// A tenant file through [`Tenant::from_toml`]: no panic, and a tenant it accepts serialises
/// ([`Tenant::to_toml`]) to text that parses again and serialises to the same text (a fixed point:
/// `Tenant` has no `PartialEq`, its TOML is the comparison).
pub fn check_tenant_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tenant) = Tenant::from_toml(text) else {
        return;
    };
    let printed = tenant.to_toml().expect("an accepted tenant serialises");
    let reparsed = Tenant::from_toml(&printed).expect("a serialised tenant parses again");
    let reprinted = reparsed.to_toml().expect("a reparsed tenant serialises");
    assert!(
        printed == reprinted,
        "the tenant changed through a TOML round trip"
    );
}

#[cfg(test)]
mod tests {
    /// Every file of the committed seed and regression corpus passes the fuzz target's checks.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        let corpus = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/corpus/sandbox_tenant"
        );
        let mut replayed = 0;
        for entry in std::fs::read_dir(corpus).expect("the corpus folder exists") {
            let path = entry.expect("a corpus entry").path();
            super::check_tenant_toml(&std::fs::read(&path).expect("a readable corpus file"));
            replayed += 1;
        }
        assert!(replayed >= 3, "only {replayed} corpus files in {corpus}");
    }
}
