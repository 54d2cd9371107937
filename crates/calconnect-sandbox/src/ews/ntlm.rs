//! The server side of NTLM over HTTP as IIS runs it for on-premises Exchange ([MS-NLMP] NTLMv2, carried in
//! `Authorization: NTLM <base64>` / `WWW-Authenticate: NTLM <base64>` as in RFC 4559 and [MS-NTHT]).
//!
//! A NEGOTIATE_MESSAGE is answered with HTTP 401 and a CHALLENGE_MESSAGE (random ServerChallenge, the
//! CONTOSO NetBIOS and DNS names, a timestamp); the challenge is remembered for the TCP connection (the
//! peer address: NTLM authenticates connections, not requests). The AUTHENTICATE_MESSAGE on that
//! connection is verified like a domain controller does (MS-NLMP 3.3.2): NTOWFv2 from the stored password
//! and the user and domain names as sent, then NTProofStr over the server challenge and the client's blob.
//! NTLMv1 responses are refused, as with `LmCompatibilityLevel` 5.
//!
//! NTLM authenticates the connection: once a handshake succeeds, later requests on the same connection
//! are accepted as that account without an `Authorization` header, as IIS does by default
//! (`windowsAuthentication/@authPersistSingleRequest` "The default value is `false`"; `true` "specifies that
//! authentication persists only for a single request on a connection. IIS resets the authentication at
//! the end of each request, and forces reauthentication on the next request of the session":
//! learn.microsoft.com/iis/configuration/system.webServer/security/authentication/windowsAuthentication/).
//! Exchange's EWS virtual directories leave it unset (CSS-Exchange's captured applicationHost.config), so
//! the tenant's `exchange.auth_persist_single_request` is `false` unless a scenario sets it. The identity
//! stays with the connection for at most IIS's default idle `connectionTimeout` of two minutes between
//! requests; a new NEGOTIATE on the connection starts over.
//!
//! Extended Protection for Authentication: the client's NTLMv2 blob may carry `MsvAvChannelBindings`, the
//! MD5 of a `gss_channel_bindings_struct` (RFC 2744 §3.11, all addresses empty) whose application data is
//! `tls-server-end-point:` followed by the RFC 5929 hash of the server certificate (MS-NLMP 3.1.5.2.2).
//! With the virtual directory at `Require` a missing or wrong binding gets 401 even with the right
//! password; at `Accept` only a wrong one does; `Off` ignores it (facts §0, "Exchange Extended Protection",
//! learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/security-best-practices/exchange-extended-protection).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;

use super::connection::ConnectionKey;
use crate::demo;
use crate::tenant::{ExtendedProtection, Tenant};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

// NEGOTIATE flags (MS-NLMP 2.2.2.5).
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_OEM: u32 = 0x0000_0002;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

/// The NetBIOS name of the demo domain.
pub const NETBIOS_DOMAIN: &str = "CONTOSO";
/// The NetBIOS name of the emulated Exchange server.
const NETBIOS_SERVER: &str = "EXCH01";

/// A challenge older than this is forgotten (IIS drops idle connections after two minutes).
const CHALLENGE_LIFETIME: i64 = 120;
/// At most this many handshakes in flight; the oldest are dropped first.
const MAX_PENDING: usize = 1024;

/// Challenges issued per connection, waiting for their AUTHENTICATE_MESSAGE, and the connections a
/// handshake authenticated.
#[derive(Debug, Clone, Default)]
pub struct NtlmHandshakes {
    pending: Arc<Mutex<HashMap<ConnectionKey, Pending>>>,
    authenticated: Arc<Mutex<HashMap<ConnectionKey, Persisted>>>,
}

/// The account a connection's handshake authenticated, and when the connection last carried a request.
#[derive(Debug, Clone)]
struct Persisted {
    upn: String,
    last_used: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Pending {
    server_challenge: [u8; 8],
    issued: DateTime<Utc>,
}

/// What the NTLM exchange of one request came to.
#[derive(Debug)]
pub enum Outcome {
    /// Answer 401 with this CHALLENGE_MESSAGE (base64) and wait for the AUTHENTICATE_MESSAGE.
    Challenge(String),
    /// The service account authenticated: its UPN.
    Authenticated(String),
    /// Refused; the reason goes to the journal (never a hash or response).
    Refused(String),
}

/// What the server expects of a channel binding on this connection.
#[derive(Debug, Clone, Copy)]
pub struct ChannelBindingPolicy {
    pub extended_protection: ExtendedProtection,
    /// The MD5 of the connection's `gss_channel_bindings_struct`; `None` over plain HTTP.
    pub expected: Option<[u8; 16]>,
}

/// `MsvAvChannelBindings` for a TLS server certificate hash (RFC 5929 `tls-server-end-point`).
pub fn channel_binding(certificate_hash: &[u8]) -> [u8; 16] {
    let mut application_data = b"tls-server-end-point:".to_vec();
    application_data.extend_from_slice(certificate_hash);
    // initiator_addrtype, initiator_address (empty), acceptor_addrtype, acceptor_address (empty),
    // application_data: each length-prefixed, little-endian (MS-NLMP 3.1.5.2.2, RFC 2744 §3.11).
    let mut structure = [0u8; 16].to_vec();
    structure.extend_from_slice(&(application_data.len() as u32).to_le_bytes());
    structure.extend_from_slice(&application_data);
    Md5::digest(&structure).into()
}

impl NtlmHandshakes {
    /// Handles one `Authorization: NTLM <token>` arriving on `connection`.
    pub fn handle(
        &self,
        tenant: &Tenant,
        connection: ConnectionKey,
        token: &str,
        now: DateTime<Utc>,
        binding: ChannelBindingPolicy,
    ) -> Outcome {
        use base64::Engine;
        let Ok(message) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
            return Outcome::Refused("ntlm token is not base64".into());
        };
        if message.len() < 12 || &message[..8] != SIGNATURE {
            return Outcome::Refused("not an NTLMSSP message".into());
        }
        match read_u32(&message, 8) {
            Some(1) => {
                let client_flags = read_u32(&message, 12).unwrap_or(NEGOTIATE_UNICODE);
                let server_challenge: [u8; 8] = rand::random();
                // A new handshake replaces whatever the connection was authenticated as.
                self.lock_authenticated().remove(&connection);
                self.remember(connection, server_challenge, now);
                let challenge = challenge_message(client_flags, server_challenge, now);
                Outcome::Challenge(base64::engine::general_purpose::STANDARD.encode(challenge))
            }
            Some(3) => {
                let pending = self.take(connection, now);
                let Some(pending) = pending else {
                    return Outcome::Refused(
                        "ntlm authenticate message without a challenge on this connection".into(),
                    );
                };
                let outcome = verify(tenant, &message, &pending.server_challenge, binding);
                if let Outcome::Authenticated(upn) = &outcome {
                    if !tenant.exchange.auth_persist_single_request {
                        self.persist(connection, upn, now);
                    }
                }
                outcome
            }
            _ => Outcome::Refused("unexpected ntlm message type".into()),
        }
    }

    /// The account an earlier handshake on `connection` authenticated, when the connection may still
    /// carry requests without one (see the module comment); refreshes its idle time.
    pub fn persisted(&self, connection: ConnectionKey, now: DateTime<Utc>) -> Option<String> {
        let mut authenticated = self.lock_authenticated();
        let entry = authenticated.get_mut(&connection)?;
        if now - entry.last_used >= Duration::seconds(CHALLENGE_LIFETIME) {
            authenticated.remove(&connection);
            return None;
        }
        entry.last_used = now;
        Some(entry.upn.clone())
    }

    fn persist(&self, connection: ConnectionKey, upn: &str, now: DateTime<Utc>) {
        let mut authenticated = self.lock_authenticated();
        authenticated
            .retain(|_, entry| now - entry.last_used < Duration::seconds(CHALLENGE_LIFETIME));
        if authenticated.len() >= MAX_PENDING {
            if let Some(oldest) = authenticated
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| *key)
            {
                authenticated.remove(&oldest);
            }
        }
        authenticated.insert(
            connection,
            Persisted {
                upn: upn.to_owned(),
                last_used: now,
            },
        );
    }

    fn lock_authenticated(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionKey, Persisted>> {
        self.authenticated
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn remember(&self, peer: ConnectionKey, server_challenge: [u8; 8], now: DateTime<Utc>) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        pending.retain(|_, entry| now - entry.issued < Duration::seconds(CHALLENGE_LIFETIME));
        if pending.len() >= MAX_PENDING {
            if let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, entry)| entry.issued)
                .map(|(peer, _)| *peer)
            {
                pending.remove(&oldest);
            }
        }
        pending.insert(
            peer,
            Pending {
                server_challenge,
                issued: now,
            },
        );
    }

    /// The connection's challenge, once: a challenge answers one AUTHENTICATE_MESSAGE only.
    fn take(&self, peer: ConnectionKey, now: DateTime<Utc>) -> Option<Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(&peer)
            .filter(|entry| now - entry.issued < Duration::seconds(CHALLENGE_LIFETIME))
    }
}

/// CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) with the TargetInfo AV pairs of a domain-joined Exchange server.
fn challenge_message(client_flags: u32, server_challenge: [u8; 8], now: DateTime<Utc>) -> Vec<u8> {
    let unicode = client_flags & NEGOTIATE_UNICODE != 0 || client_flags & NEGOTIATE_OEM == 0;
    let mut flags = REQUEST_TARGET
        | NEGOTIATE_NTLM
        | NEGOTIATE_ALWAYS_SIGN
        | TARGET_TYPE_DOMAIN
        | NEGOTIATE_TARGET_INFO
        | NEGOTIATE_VERSION
        | (client_flags & (NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_56));
    flags |= if unicode {
        NEGOTIATE_UNICODE
    } else {
        NEGOTIATE_OEM
    };
    let target_name = if unicode {
        utf16le(NETBIOS_DOMAIN)
    } else {
        NETBIOS_DOMAIN.as_bytes().to_vec()
    };
    let dns_server = format!("exch01.{}", demo::DOMAIN);
    let mut target_info = Vec::new();
    for (id, value) in [
        (2u16, utf16le(NETBIOS_DOMAIN)),
        (1, utf16le(NETBIOS_SERVER)),
        (4, utf16le(demo::DOMAIN)),
        (3, utf16le(&dns_server)),
        (5, utf16le(demo::DOMAIN)),
        (7, filetime(now).to_le_bytes().to_vec()),
    ] {
        target_info.extend_from_slice(&id.to_le_bytes());
        target_info.extend_from_slice(&(value.len() as u16).to_le_bytes());
        target_info.extend_from_slice(&value);
    }
    target_info.extend_from_slice(&[0; 4]); // MsvAvEOL

    // Header: signature, type, TargetNameFields, flags, challenge, reserved, TargetInfoFields, version.
    const HEADER: usize = 56;
    let mut message = Vec::with_capacity(HEADER + target_name.len() + target_info.len());
    message.extend_from_slice(SIGNATURE);
    message.extend_from_slice(&2u32.to_le_bytes());
    push_field(&mut message, target_name.len(), HEADER);
    message.extend_from_slice(&flags.to_le_bytes());
    message.extend_from_slice(&server_challenge);
    message.extend_from_slice(&[0; 8]);
    push_field(&mut message, target_info.len(), HEADER + target_name.len());
    // Windows Server 2019 (10.0.17763), NTLMSSP_REVISION_W2K3.
    message.extend_from_slice(&[10, 0, 0x63, 0x45, 0, 0, 0, 15]);
    message.extend_from_slice(&target_name);
    message.extend_from_slice(&target_info);
    message
}

/// Verifies an AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) against the tenant's service accounts.
fn verify(
    tenant: &Tenant,
    message: &[u8],
    server_challenge: &[u8; 8],
    binding: ChannelBindingPolicy,
) -> Outcome {
    let Some(flags) = read_u32(message, 60) else {
        return Outcome::Refused("truncated ntlm authenticate message".into());
    };
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    let text = |at| {
        field(message, at).map(|bytes| {
            if unicode {
                utf16_string(bytes)
            } else {
                String::from_utf8_lossy(bytes).into_owned()
            }
        })
    };
    let (Some(nt_response), Some(domain), Some(user)) = (field(message, 20), text(28), text(36))
    else {
        return Outcome::Refused("ntlm authenticate message fields point outside it".into());
    };
    if nt_response.len() <= 24 {
        return Outcome::Refused("ntlmv1 response refused (ntlmv2 required)".into());
    }
    let Some(upn) = account_upn(&user, &domain) else {
        return Outcome::Refused(format!("ntlm user {domain}\\{user} is not in this domain"));
    };
    let Some(account) = tenant.service_account(&upn) else {
        return Outcome::Refused(format!("ntlm user {upn} is unknown"));
    };
    let (proof, blob) = nt_response.split_at(16);
    let key = ntowf_v2(account.password.expose(), &user, &domain);
    let expected = hmac_md5(&key, &[server_challenge, blob]);
    let matches = expected
        .iter()
        .zip(proof)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    if !matches {
        return Outcome::Refused(format!("ntlm: wrong password for {upn}"));
    }
    // The binding is checked after the proof: it sits inside the blob the proof covers, so a client
    // cannot change it without knowing the password.
    if let Err(reason) = check_channel_binding(blob, binding) {
        return Outcome::Refused(format!("ntlm: extended protection: {reason} for {upn}"));
    }
    Outcome::Authenticated(account.upn.clone())
}

/// `MsvAvChannelBindings` (AvId 10) in an NTLMv2 client blob: `RespType, HiRespType, Reserved1(2),
/// Reserved2(4), TimeStamp(8), ChallengeFromClient(8), Reserved3(4)`, then the AV pairs (MS-NLMP 2.2.2.7).
fn client_channel_binding(blob: &[u8]) -> Option<[u8; 16]> {
    let mut at = 28;
    // Bounded by the blob: every pair moves `at` forward by at least four bytes.
    while let (Some(id), Some(length)) = (read_u16(blob, at), read_u16(blob, at + 2)) {
        let value = blob.get(at + 4..at + 4 + usize::from(length))?;
        match id {
            0 => return None,
            10 => return value.try_into().ok(),
            _ => at += 4 + usize::from(length),
        }
    }
    None
}

fn check_channel_binding(blob: &[u8], policy: ChannelBindingPolicy) -> Result<(), &'static str> {
    // An all-zero binding means "none" (MS-NLMP: clients that cannot bind send zeros).
    let sent = client_channel_binding(blob).filter(|binding| binding.iter().any(|byte| *byte != 0));
    match (policy.extended_protection, sent, policy.expected) {
        (ExtendedProtection::Off, _, _) => Ok(()),
        (_, Some(sent), Some(expected)) if sent == expected => Ok(()),
        (_, Some(_), _) => Err("the channel binding does not match this TLS connection"),
        (ExtendedProtection::Accept, None, _) => Ok(()),
        (ExtendedProtection::Require, None, Some(_)) => Err("no channel binding was sent"),
        // ASSUMPTION: Require over plain HTTP has nothing to bind to; IIS refuses it.
        (ExtendedProtection::Require, None, None) => Err("Require needs TLS"),
    }
}

/// The UPN an NTLM identity names: a UPN as user name (empty domain), or a name in `CONTOSO` /
/// `contoso.com`.
fn account_upn(user: &str, domain: &str) -> Option<String> {
    if user.contains('@') {
        return Some(user.to_owned());
    }
    let in_domain = domain.is_empty()
        || domain.eq_ignore_ascii_case(NETBIOS_DOMAIN)
        || domain.eq_ignore_ascii_case(demo::DOMAIN);
    in_domain.then(|| format!("{user}@{}", demo::DOMAIN))
}

/// NTOWFv2: HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) ‖ domain)).
fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt_hash: [u8; 16] = Md4::digest(utf16le(password)).into();
    hmac_md5(
        &nt_hash,
        &[&utf16le(&format!("{}{domain}", user.to_uppercase()))],
    )
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let Ok(mut mac) = <Hmac<Md5> as KeyInit>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// 100 ns intervals since 1601-01-01.
fn filetime(now: DateTime<Utc>) -> u64 {
    const UNIX_EPOCH_AS_FILETIME: i64 = 116_444_736_000_000_000;
    u64::try_from(now.timestamp_micros() * 10 + UNIX_EPOCH_AS_FILETIME).unwrap_or_default()
}

fn push_field(message: &mut Vec<u8>, length: usize, offset: usize) {
    let length = u16::try_from(length).unwrap_or(u16::MAX);
    message.extend_from_slice(&length.to_le_bytes());
    message.extend_from_slice(&length.to_le_bytes());
    message.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn utf16_string(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes a security buffer (length, max length, offset) at `at` points to, bounds-checked.
fn field(message: &[u8], at: usize) -> Option<&[u8]> {
    let length = usize::from(read_u16(message, at)?);
    let offset = read_u32(message, at + 4)? as usize;
    message.get(offset..offset.checked_add(length)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-NLMP 4.2.4.1.1: NTOWFv2("Password", "User", "Domain").
    #[test]
    fn ntowf_v2_matches_the_ms_nlmp_test_vector() {
        let key = ntowf_v2("Password", "User", "Domain");
        let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(hex, "0c868a403bfd7a93a3001ef22ef02e3f");
    }

    fn blob_with_binding(binding: Option<[u8; 16]>) -> Vec<u8> {
        let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
        blob.extend_from_slice(&[0; 20]);
        if let Some(binding) = binding {
            blob.extend_from_slice(&10u16.to_le_bytes());
            blob.extend_from_slice(&16u16.to_le_bytes());
            blob.extend_from_slice(&binding);
        }
        blob.extend_from_slice(&[0; 4]);
        blob
    }

    #[test]
    fn extended_protection_checks_the_binding_as_each_setting_says() {
        let expected = channel_binding(&[7; 32]);
        let policy = |extended_protection| ChannelBindingPolicy {
            extended_protection,
            expected: Some(expected),
        };
        let right = blob_with_binding(Some(expected));
        let wrong = blob_with_binding(Some([1; 16]));
        let none = blob_with_binding(None);
        let zeros = blob_with_binding(Some([0; 16]));
        assert!(check_channel_binding(&right, policy(ExtendedProtection::Require)).is_ok());
        assert!(check_channel_binding(&none, policy(ExtendedProtection::Require)).is_err());
        assert!(check_channel_binding(&zeros, policy(ExtendedProtection::Require)).is_err());
        assert!(check_channel_binding(&wrong, policy(ExtendedProtection::Accept)).is_err());
        assert!(check_channel_binding(&none, policy(ExtendedProtection::Accept)).is_ok());
        assert!(check_channel_binding(&wrong, policy(ExtendedProtection::Off)).is_ok());
        assert!(
            client_channel_binding(&[1, 1, 0]).is_none(),
            "truncated blobs are fine"
        );
    }

    #[test]
    fn the_channel_binding_is_the_md5_of_the_rfc_2744_structure() {
        // Hand-computed: MD5(16 zero bytes ‖ len ‖ "tls-server-end-point:" ‖ hash).
        let hash = [0xAB; 32];
        let mut structure = vec![0u8; 16];
        structure.extend_from_slice(&53u32.to_le_bytes());
        structure.extend_from_slice(b"tls-server-end-point:");
        structure.extend_from_slice(&hash);
        let expected: [u8; 16] = Md5::digest(&structure).into();
        assert_eq!(channel_binding(&hash), expected);
    }

    #[test]
    fn the_challenge_names_the_netbios_and_dns_domains() {
        let message = challenge_message(NEGOTIATE_UNICODE, [7; 8], Utc::now());
        assert_eq!(&message[24..32], &[7; 8]);
        let info = field(&message, 40).unwrap();
        let text = String::from_utf8_lossy(info).replace('\0', "");
        assert!(
            text.contains("CONTOSO") && text.contains("contoso.com"),
            "{text}"
        );
        assert_eq!(utf16_string(field(&message, 12).unwrap()), "CONTOSO");
    }

    #[test]
    fn identities_in_the_domain_map_to_the_upn() {
        assert_eq!(
            account_upn("svc-calconnect", "CONTOSO").as_deref(),
            Some("svc-calconnect@contoso.com")
        );
        assert_eq!(
            account_upn("svc-calconnect@contoso.com", "").as_deref(),
            Some("svc-calconnect@contoso.com")
        );
        assert_eq!(account_upn("svc-calconnect", "FABRIKAM"), None);
    }

    #[test]
    fn an_authenticate_message_without_a_challenge_on_its_connection_is_refused() {
        use base64::Engine;
        let handshakes = NtlmHandshakes::default();
        let mut message = SIGNATURE.to_vec();
        message.extend_from_slice(&3u32.to_le_bytes());
        message.extend_from_slice(&[0; 52]);
        let token = base64::engine::general_purpose::STANDARD.encode(message);
        let outcome = handshakes.handle(
            &Tenant::demo(),
            ConnectionKey {
                peer: "127.0.0.1:5000".parse().unwrap(),
                serial: 1,
            },
            &token,
            Utc::now(),
            ChannelBindingPolicy {
                extended_protection: ExtendedProtection::Accept,
                expected: None,
            },
        );
        assert!(matches!(outcome, Outcome::Refused(_)), "{outcome:?}");
    }
}
