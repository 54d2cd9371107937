//! DNS SRV lookups for Autodiscover's last candidate, `_autodiscover._tcp.{domain}` ("Autodiscover for
//! Exchange": use only SSL targets, by priority then weight), and the system resolver that answers them.

use std::sync::OnceLock;

use futures::future::BoxFuture;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;

use crate::autodiscover::{SrvRecord, SrvResolver};

/// The targets Autodiscover may use, best first: SSL (port 443) only, lowest priority first, then highest
/// weight ("Generate a list of Autodiscover endpoints"). Duplicates are dropped.
pub fn ssl_targets(records: &[SrvRecord]) -> Vec<SrvRecord> {
    let mut targets: Vec<SrvRecord> = records
        .iter()
        .filter(|record| record.port == 443 && !record.target.trim_end_matches('.').is_empty())
        .cloned()
        .collect();
    targets.sort_by(|left, right| {
        left.priority
            .cmp(&right.priority)
            .then(right.weight.cmp(&left.weight))
    });
    targets.dedup();
    targets
}

/// SRV lookups through the operating system's DNS configuration (`/etc/resolv.conf`, the Windows registry).
/// The resolver is built on first use, inside the async runtime that queries it.
#[derive(Default)]
pub struct SystemSrvResolver {
    resolver: OnceLock<Result<TokioResolver, String>>,
}

impl std::fmt::Debug for SystemSrvResolver {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SystemSrvResolver")
            .field("ready", &self.resolver.get().is_some_and(Result::is_ok))
            .finish()
    }
}

impl SystemSrvResolver {
    /// A resolver that reads the system configuration on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the system configuration now, without sending any query.
    pub fn prepare(&self) -> Result<(), String> {
        self.resolver().map(|_| ())
    }

    fn resolver(&self) -> Result<&TokioResolver, String> {
        self.resolver
            .get_or_init(|| {
                TokioResolver::builder_tokio()
                    .map(|builder| builder.build())
                    .map_err(|error| format!("cannot read the system DNS configuration: {error}"))
                    .and_then(|built| {
                        built.map_err(|error| format!("cannot build the DNS resolver: {error}"))
                    })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl SrvResolver for SystemSrvResolver {
    fn lookup(&self, name: &str) -> BoxFuture<'static, Result<Vec<SrvRecord>, String>> {
        let resolver = self.resolver().cloned();
        let name = name.to_owned();
        Box::pin(async move {
            let resolver = resolver?;
            let lookup = resolver
                .srv_lookup(name.as_str())
                .await
                .map_err(|error| format!("SRV lookup of {name} failed: {error}"))?;
            Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::SRV(srv) => Some(SrvRecord {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: srv.target.to_utf8(),
                    }),
                    _ => None,
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port,
            target: target.to_owned(),
        }
    }

    #[test]
    fn only_ssl_targets_are_kept_by_priority_then_weight() {
        let records = [
            record(10, 5, 443, "slow.contoso.com."),
            record(0, 0, 80, "plain.contoso.com."),
            record(10, 50, 443, "heavy.contoso.com."),
            record(5, 0, 443, "first.contoso.com."),
            record(1, 0, 8443, "odd-port.contoso.com."),
        ];
        let targets: Vec<String> = ssl_targets(&records)
            .into_iter()
            .map(|record| record.target)
            .collect();
        assert_eq!(
            targets,
            [
                "first.contoso.com.",
                "heavy.contoso.com.",
                "slow.contoso.com."
            ]
        );
    }

    #[tokio::test]
    async fn the_system_resolver_is_built_without_querying_anything() {
        let resolver = SystemSrvResolver::new();
        // Reading the configuration sends nothing; a machine without one reports why instead.
        match resolver.prepare() {
            Ok(()) => assert!(format!("{resolver:?}").contains("ready: true")),
            Err(reason) => assert!(reason.contains("DNS"), "{reason}"),
        }
    }
}
