//! Fault knobs: make a route slow, throttled, unreachable, or make Entra refuse a grant.
//!
//! Knobs are keyed by route name (see [`crate::route::route_name`]): `authorize`, `token`, `devicecode`,
//! `devicelogin`, `discovery`, `keys`, `graph.me`, `graph.calendars`, `graph.calendarView`, `graph.getSchedule`,
//! `graph.onlineMeetings`, `graph.users`, `graph.organization`, `ews`, `autodiscover`. A knob on `graph` matches every `graph.*` route.
//! The same knobs are reachable over HTTP: `POST /_sandbox/faults` with a JSON [`Fault`] (or an array of them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One fault to install, as accepted by `POST /_sandbox/faults`.
///
/// ```json
/// {"kind": "throttle", "route": "graph.calendars", "status": 429, "retry_after_secs": 2, "times": 1}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Delay every response of `route` by `millis`.
    Latency { route: String, millis: u64 },
    /// Answer the next `times` requests of `route` with `status` (429 or 503) and `Retry-After: retry_after_secs`.
    Throttle {
        route: String,
        status: u16,
        retry_after_secs: u64,
        times: u32,
    },
    /// Close the connection without a response for the next `times` requests of `route`.
    DropConnection { route: String, times: u32 },
    /// Revoke every refresh token issued so far (optionally only `user`'s): next use gets AADSTS70000.
    RevokeRefreshTokens {
        #[serde(default)]
        user: Option<String>,
    },
    /// Expire every refresh token issued so far (optionally only `user`'s) for inactivity: AADSTS700082.
    ExpireRefreshTokens {
        #[serde(default)]
        user: Option<String>,
    },
    /// Withdraw the consent users gave (optionally only `user`'s, only to `client_id`), as deleting their
    /// oauth2PermissionGrant does (learn.microsoft.com/graph/api/oauth2permissiongrant-delete): the next
    /// refresh gets AADSTS65001 (`consent_required`) and the next sign-in shows the consent page again.
    RevokeConsent {
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        client_id: Option<String>,
    },
    /// The next `times` consent decisions count as declined (AADSTS65004), whatever the person clicks.
    DeclineConsent { times: u32 },
    /// Conditional access blocks the next `times` sign-ins and token grants (AADSTS53003).
    ConditionalAccess { times: u32 },
    /// The next `times` EWS requests get `ErrorServerBusy` with `BackOffMilliseconds` = `back_off_millis`:
    /// as an HTTP 500 SOAP fault, or with `in_response_message` as HTTP 200 with an `ErrorInternalServerError`
    /// response message whose inner code is `ErrorServerBusy` (both shapes of "EWS throttling in Exchange").
    EwsServerBusy {
        back_off_millis: u64,
        times: u32,
        #[serde(default)]
        in_response_message: bool,
    },
    /// Remove every knob.
    Clear,
}

/// What the router must do with a request before handling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteFault {
    /// Reply with this status and `Retry-After` seconds.
    Throttle { status: u16, retry_after_secs: u64 },
    /// Close the connection without replying.
    DropConnection,
}

/// Which refresh tokens a revocation applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshTokenFault {
    Revoke { user: Option<String> },
    Expire { user: Option<String> },
}

/// Whose consent a [`Fault::RevokeConsent`] withdraws (`None`: everyone's, every app's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRevocation {
    pub user: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, Default)]
struct FaultState {
    latency: HashMap<String, Duration>,
    throttles: HashMap<String, (u16, u64, u32)>,
    drops: HashMap<String, u32>,
    pending_refresh_token_faults: Vec<RefreshTokenFault>,
    pending_consent_revocations: Vec<ConsentRevocation>,
    declined_consents: u32,
    conditional_access: u32,
    ews_server_busy: Option<(u64, u32, bool)>,
}

/// Shared handle on the fault knobs; cheap to clone, same state as the admin endpoint.
#[derive(Debug, Clone, Default)]
pub struct FaultControl {
    state: Arc<Mutex<FaultState>>,
}

impl FaultControl {
    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Installs a fault.
    pub fn apply(&self, fault: Fault) {
        tracing::info!(?fault, "fault installed");
        let mut state = self.lock();
        match fault {
            Fault::Latency { route, millis } => {
                state.latency.insert(route, Duration::from_millis(millis));
            }
            Fault::Throttle {
                route,
                status,
                retry_after_secs,
                times,
            } => {
                state
                    .throttles
                    .insert(route, (status, retry_after_secs, times));
            }
            Fault::DropConnection { route, times } => {
                state.drops.insert(route, times);
            }
            Fault::RevokeRefreshTokens { user } => state
                .pending_refresh_token_faults
                .push(RefreshTokenFault::Revoke { user }),
            Fault::ExpireRefreshTokens { user } => state
                .pending_refresh_token_faults
                .push(RefreshTokenFault::Expire { user }),
            Fault::RevokeConsent { user, client_id } => state
                .pending_consent_revocations
                .push(ConsentRevocation { user, client_id }),
            Fault::DeclineConsent { times } => state.declined_consents = times,
            Fault::ConditionalAccess { times } => state.conditional_access = times,
            Fault::EwsServerBusy {
                back_off_millis,
                times,
                in_response_message,
            } => state.ews_server_busy = Some((back_off_millis, times, in_response_message)),
            Fault::Clear => *state = FaultState::default(),
        }
    }

    /// Delays every response of `route`.
    pub fn set_latency(&self, route: &str, latency: Duration) {
        let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.apply(Fault::Latency {
            route: route.to_owned(),
            millis,
        });
    }

    /// Answers the next `times` requests of `route` with `status` (429/503) and `Retry-After`.
    pub fn throttle(&self, route: &str, status: u16, retry_after_secs: u64, times: u32) {
        self.apply(Fault::Throttle {
            route: route.to_owned(),
            status,
            retry_after_secs,
            times,
        });
    }

    /// Drops the connection of the next `times` requests of `route`.
    pub fn drop_connections(&self, route: &str, times: u32) {
        self.apply(Fault::DropConnection {
            route: route.to_owned(),
            times,
        });
    }

    /// Revokes all refresh tokens issued so far (AADSTS70000 on next use).
    pub fn revoke_refresh_tokens(&self) {
        self.apply(Fault::RevokeRefreshTokens { user: None });
    }

    /// Expires all refresh tokens issued so far (AADSTS700082 on next use).
    pub fn expire_refresh_tokens(&self) {
        self.apply(Fault::ExpireRefreshTokens { user: None });
    }

    /// Withdraws `user`'s (or everyone's) consent to `client_id` (or every app): AADSTS65001 on refresh.
    pub fn revoke_consent(&self, user: Option<&str>, client_id: Option<&str>) {
        self.apply(Fault::RevokeConsent {
            user: user.map(str::to_owned),
            client_id: client_id.map(str::to_owned),
        });
    }

    /// The next `times` consents are declined (AADSTS65004).
    pub fn decline_consent(&self, times: u32) {
        self.apply(Fault::DeclineConsent { times });
    }

    /// Conditional access blocks the next `times` sign-ins or grants (AADSTS53003).
    pub fn force_conditional_access(&self, times: u32) {
        self.apply(Fault::ConditionalAccess { times });
    }

    /// The next `times` EWS requests answer `ErrorServerBusy` with `BackOffMilliseconds`.
    pub fn ews_server_busy(&self, back_off: Duration, times: u32) {
        let back_off_millis = u64::try_from(back_off.as_millis()).unwrap_or(u64::MAX);
        self.apply(Fault::EwsServerBusy {
            back_off_millis,
            times,
            in_response_message: false,
        });
    }

    /// The next `times` EWS requests answer HTTP 200 with an `ErrorInternalServerError` response message
    /// carrying the inner code `ErrorServerBusy` and `BackOffMilliseconds` in its `MessageXml`.
    pub fn ews_server_busy_in_response_message(&self, back_off: Duration, times: u32) {
        let back_off_millis = u64::try_from(back_off.as_millis()).unwrap_or(u64::MAX);
        self.apply(Fault::EwsServerBusy {
            back_off_millis,
            times,
            in_response_message: true,
        });
    }

    /// Removes every knob.
    pub fn clear(&self) {
        self.apply(Fault::Clear);
    }

    /// Latency configured for `route` (exact name, else its family such as `graph`).
    pub fn latency_for(&self, route: &str) -> Option<Duration> {
        let state = self.lock();
        route_keys(route).find_map(|key| state.latency.get(key).copied())
    }

    /// Consumes one throttle or drop for `route`, if any is armed.
    pub fn take_route_fault(&self, route: &str) -> Option<RouteFault> {
        let mut state = self.lock();
        for key in route_keys(route) {
            if let Some(remaining) = state.drops.get_mut(key).filter(|remaining| **remaining > 0) {
                *remaining -= 1;
                return Some(RouteFault::DropConnection);
            }
            if let Some((status, retry_after_secs, remaining)) = state
                .throttles
                .get_mut(key)
                .filter(|(_, _, remaining)| *remaining > 0)
            {
                *remaining -= 1;
                return Some(RouteFault::Throttle {
                    status: *status,
                    retry_after_secs: *retry_after_secs,
                });
            }
        }
        None
    }

    /// Takes the refresh-token revocations installed since the last call (the token store applies them).
    pub fn take_refresh_token_faults(&self) -> Vec<RefreshTokenFault> {
        std::mem::take(&mut self.lock().pending_refresh_token_faults)
    }

    /// Takes the consent withdrawals installed since the last call (the store applies them).
    pub fn take_consent_revocations(&self) -> Vec<ConsentRevocation> {
        std::mem::take(&mut self.lock().pending_consent_revocations)
    }

    /// Consumes one forced consent decline.
    pub fn take_declined_consent(&self) -> bool {
        take_one(&mut self.lock().declined_consents)
    }

    /// Consumes one forced conditional access block.
    pub fn take_conditional_access(&self) -> bool {
        take_one(&mut self.lock().conditional_access)
    }

    /// Consumes one EWS `ErrorServerBusy`, returning its `BackOffMilliseconds` and whether it goes in a
    /// response message (else a SOAP fault). The EWS routes call this and render the answer themselves.
    pub fn take_ews_server_busy(&self) -> Option<(u64, bool)> {
        let mut state = self.lock();
        let (back_off_millis, remaining, in_response_message) = state.ews_server_busy.as_mut()?;
        if *remaining == 0 {
            return None;
        }
        *remaining -= 1;
        Some((*back_off_millis, *in_response_message))
    }
}

fn take_one(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

/// `graph.calendars` is matched by knobs on `graph.calendars` first, then `graph`.
fn route_keys(route: &str) -> impl Iterator<Item = &str> {
    let family = route.split_once('.').map(|(family, _)| family);
    std::iter::once(route).chain(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_is_consumed_after_the_configured_number_of_requests() {
        let faults = FaultControl::default();
        faults.throttle("graph", 429, 3, 2);
        let expected = Some(RouteFault::Throttle {
            status: 429,
            retry_after_secs: 3,
        });
        assert_eq!(faults.take_route_fault("graph.calendars"), expected);
        assert_eq!(faults.take_route_fault("graph.me"), expected);
        assert_eq!(faults.take_route_fault("graph.me"), None);
    }

    #[test]
    fn admin_json_shape_parses_into_a_fault() {
        let fault: Fault = serde_json::from_str(
            r#"{"kind":"throttle","route":"token","status":503,"retry_after_secs":1,"times":1}"#,
        )
        .expect("documented JSON parses");
        assert_eq!(
            fault,
            Fault::Throttle {
                route: "token".into(),
                status: 503,
                retry_after_secs: 1,
                times: 1
            }
        );
    }
}
