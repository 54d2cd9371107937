//! NTLMv2 messages for HTTP authentication to on-premises Exchange ([MS-NLMP]; carried as
//! `Authorization: NTLM <base64>` / `WWW-Authenticate: NTLM <base64>` as in RFC 4559 and [MS-NTHT]).
//!
//! The client sends a NEGOTIATE_MESSAGE, reads the server's CHALLENGE_MESSAGE and answers with an
//! AUTHENTICATE_MESSAGE carrying the NTLMv2 response (MS-NLMP 3.3.2). HTTP uses neither signing nor
//! sealing, so no session key is exchanged and no MIC is sent (a MIC is only checked when the client
//! announces one in `MsvAvFlags`, MS-NLMP 3.2.5.1.2).
//!
//! The password is read from its [`SecretString`] straight into MD4; the NT hash and the NTOWFv2 key
//! live in zeroizing buffers and never leave this module.

use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

// NEGOTIATE flags (MS-NLMP 2.2.2.5).
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_OEM: u32 = 0x0000_0002;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

/// What this client asks for: Unicode (OEM as fallback), the target's names, NTLM with extended session
/// security, as Windows clients do.
const CLIENT_FLAGS: u32 = NEGOTIATE_UNICODE
    | NEGOTIATE_OEM
    | REQUEST_TARGET
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_128
    | NEGOTIATE_56;

// AV_PAIR ids (MS-NLMP 2.2.2.1).
const MSV_AV_EOL: u16 = 0x0000;
const MSV_AV_NB_DOMAIN_NAME: u16 = 0x0002;
const MSV_AV_TIMESTAMP: u16 = 0x0007;

/// The workstation name sent in AUTHENTICATE_MESSAGE (informational for the server).
const WORKSTATION: &str = "CALCONNECT";

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_SECS: u64 = 11_644_473_600;

/// The NEGOTIATE_MESSAGE (type 1), without domain or workstation (MS-NLMP 2.2.1.1).
pub fn negotiate_message() -> Vec<u8> {
    let mut message = Vec::with_capacity(32);
    message.extend_from_slice(SIGNATURE);
    message.extend_from_slice(&1u32.to_le_bytes());
    message.extend_from_slice(&CLIENT_FLAGS.to_le_bytes());
    // DomainNameFields and WorkstationFields: empty, pointing at the end of the message.
    for _ in 0..2 {
        message.extend_from_slice(&[0, 0, 0, 0]);
        message.extend_from_slice(&32u32.to_le_bytes());
    }
    message
}

/// A CHALLENGE_MESSAGE (type 2, MS-NLMP 2.2.1.2) as read from `WWW-Authenticate: NTLM <base64>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// NegotiateFlags the server chose.
    pub flags: u32,
    /// The 8-byte ServerChallenge.
    pub server_challenge: [u8; 8],
    /// TargetInfo: the AV_PAIR list, verbatim (it is echoed inside the NTLMv2 response).
    pub target_info: Vec<u8>,
}

impl Challenge {
    /// Parses a CHALLENGE_MESSAGE; every offset is bounds-checked (the bytes come from the network).
    pub fn parse(message: &[u8]) -> Result<Self, String> {
        if message.len() < 32 || &message[..8] != SIGNATURE {
            return Err("not an NTLMSSP message".into());
        }
        if read_u32(message, 8) != Some(2) {
            return Err("not a CHALLENGE_MESSAGE".into());
        }
        let flags = read_u32(message, 20).ok_or("truncated flags")?;
        let mut server_challenge = [0u8; 8];
        server_challenge.copy_from_slice(&message[24..32]);
        let target_info = if flags & NEGOTIATE_TARGET_INFO != 0 && message.len() >= 48 {
            payload(message, 40)?.to_vec()
        } else {
            Vec::new()
        };
        av_pairs(&target_info)?;
        Ok(Self {
            flags,
            server_challenge,
            target_info,
        })
    }

    /// The server's NetBIOS domain (`MsvAvNbDomainName`), used for user names without a domain.
    pub fn netbios_domain(&self) -> Option<String> {
        av_pairs(&self.target_info)
            .ok()?
            .into_iter()
            .find(|(id, _)| *id == MSV_AV_NB_DOMAIN_NAME)
            .map(|(_, value)| utf16_string(value))
    }

    /// The server's `MsvAvTimestamp` (FILETIME), which the NTLMv2 response must reuse when present.
    fn timestamp(&self) -> Option<[u8; 8]> {
        av_pairs(&self.target_info)
            .ok()?
            .into_iter()
            .find(|(id, value)| *id == MSV_AV_TIMESTAMP && value.len() == 8)
            .and_then(|(_, value)| value.try_into().ok())
    }
}

/// Splits what the admin typed into the (user, domain) pair NTLM hashes and sends:
/// `DOMAIN\user` → (`user`, `DOMAIN`); a UPN `user@domain` → (the UPN, empty domain), as Windows sends
/// UPNs (MS-NLMP 3.1.5.1.2: "If the user name is a UPN, the DomainName is empty"); a bare name takes the
/// server's NetBIOS domain.
pub fn split_user(username: &str, server_domain: Option<&str>) -> (String, String) {
    if let Some((domain, user)) = username.split_once('\\') {
        return (user.to_owned(), domain.to_owned());
    }
    if username.contains('@') {
        return (username.to_owned(), String::new());
    }
    (
        username.to_owned(),
        server_domain.unwrap_or_default().to_owned(),
    )
}

/// Inputs of an NTLMv2 response that are not secret: the client's nonce and its clock (FILETIME, used
/// only when the server sends no `MsvAvTimestamp`).
#[derive(Debug, Clone, Copy)]
pub struct ClientNonce {
    /// The 8-byte ClientChallenge.
    pub client_challenge: [u8; 8],
    /// Now, in 100 ns intervals since 1601-01-01.
    pub filetime: u64,
}

impl ClientNonce {
    /// A random client challenge and the system clock.
    pub fn fresh() -> Self {
        let since_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let filetime = (since_unix.as_secs() + FILETIME_UNIX_OFFSET_SECS) * 10_000_000
            + u64::from(since_unix.subsec_nanos() / 100);
        Self {
            client_challenge: rand::random(),
            filetime,
        }
    }
}

/// The AUTHENTICATE_MESSAGE (type 3, MS-NLMP 2.2.1.3) answering `challenge` with an NTLMv2 response.
pub fn authenticate_message(
    challenge: &Challenge,
    username: &str,
    password: &SecretString,
    nonce: ClientNonce,
) -> Vec<u8> {
    let server_domain = challenge.netbios_domain();
    let (user, domain) = split_user(username, server_domain.as_deref());
    let key = ntowf_v2(password, &user, &domain);
    let timestamp = challenge
        .timestamp()
        .unwrap_or_else(|| nonce.filetime.to_le_bytes());

    // NTLMv2_CLIENT_CHALLENGE ("temp" in MS-NLMP 3.3.2): versions, reserved, time, nonce, reserved,
    // the server's AV pairs (ending in MsvAvEOL), reserved.
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&timestamp);
    blob.extend_from_slice(&nonce.client_challenge);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&challenge.target_info);
    blob.extend_from_slice(&[0; 4]);
    let proof = hmac_md5(&key[..], &[&challenge.server_challenge, &blob]);
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(&blob);
    // With MsvAvTimestamp the LM response is all zeros (MS-NLMP 3.1.5.1.2); otherwise LMv2.
    let lm_response = if challenge.timestamp().is_some() {
        vec![0; 24]
    } else {
        let mut lm = hmac_md5(
            &key[..],
            &[&challenge.server_challenge, &nonce.client_challenge],
        )
        .to_vec();
        lm.extend_from_slice(&nonce.client_challenge);
        lm
    };

    let flags = (challenge.flags & CLIENT_FLAGS) | NEGOTIATE_NTLM;
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    let text = |value: &str| {
        if unicode {
            utf16le(value)
        } else {
            value
                .bytes()
                .map(|byte| if byte.is_ascii() { byte } else { b'?' })
                .collect()
        }
    };
    let payloads: [Vec<u8>; 6] = [
        lm_response,
        nt_response,
        text(&domain),
        text(&user),
        text(WORKSTATION),
        Vec::new(), // EncryptedRandomSessionKey: no key exchange.
    ];
    const HEADER: usize = 8 + 4 + 6 * 8 + 4;
    let mut message = Vec::with_capacity(HEADER + payloads.iter().map(Vec::len).sum::<usize>());
    message.extend_from_slice(SIGNATURE);
    message.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = HEADER;
    for payload in &payloads {
        let length = u16::try_from(payload.len()).unwrap_or(u16::MAX);
        message.extend_from_slice(&length.to_le_bytes());
        message.extend_from_slice(&length.to_le_bytes());
        message.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
        offset += payload.len();
    }
    message.extend_from_slice(&flags.to_le_bytes());
    for payload in &payloads {
        message.extend_from_slice(payload);
    }
    message
}

/// NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) ‖ domain)).
fn ntowf_v2(password: &SecretString, user: &str, domain: &str) -> Zeroizing<[u8; 16]> {
    let mut md4 = Md4::new();
    // Fed one code unit at a time so no copy of the password is left in a buffer.
    for unit in password.expose_secret().encode_utf16() {
        md4.update(unit.to_le_bytes());
    }
    let nt_hash = Zeroizing::new(<[u8; 16]>::from(md4.finalize()));
    let identity = utf16le(&format!("{}{domain}", user.to_uppercase()));
    Zeroizing::new(hmac_md5(&nt_hash[..], &[&identity]))
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

/// The bytes a security buffer (length, max length, offset) at `at` points to.
fn payload(message: &[u8], at: usize) -> Result<&[u8], String> {
    let length = usize::from(read_u16(message, at).ok_or("truncated field")?);
    let offset = read_u32(message, at + 4).ok_or("truncated field")? as usize;
    message
        .get(offset..offset.checked_add(length).ok_or("field overflows")?)
        .ok_or_else(|| "field points outside the message".into())
}

/// The AV_PAIR list up to MsvAvEOL.
fn av_pairs(bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, String> {
    let mut pairs = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let id = read_u16(bytes, at).ok_or("truncated AV_PAIR")?;
        let length = usize::from(read_u16(bytes, at + 2).ok_or("truncated AV_PAIR")?);
        if id == MSV_AV_EOL {
            break;
        }
        let value = bytes
            .get(at + 4..at + 4 + length)
            .ok_or("AV_PAIR longer than the target info")?;
        pairs.push((id, value));
        at += 4 + length;
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// MS-NLMP 4.2.4.1.1 NTOWFv2() with User "User", UserDom "Domain", Passwd "Password".
    #[test]
    fn ntowf_v2_matches_the_ms_nlmp_test_vector() {
        let key = ntowf_v2(&SecretString::from("Password"), "User", "Domain");
        assert_eq!(hex(&key[..]), "0c868a403bfd7a93a3001ef22ef02e3f");
    }

    /// MS-NLMP 4.2.4.2.2 NTLMv2 response: NTProofStr for the example's challenge, nonce and AV pairs.
    #[test]
    fn the_ntlmv2_proof_matches_the_ms_nlmp_test_vector() {
        let mut target_info = Vec::new();
        for (id, value) in [(MSV_AV_NB_DOMAIN_NAME, "Domain"), (1, "Server")] {
            target_info.extend_from_slice(&id.to_le_bytes());
            target_info.extend_from_slice(&12u16.to_le_bytes());
            target_info.extend_from_slice(&utf16le(value));
        }
        target_info.extend_from_slice(&[0; 4]);
        let challenge = Challenge {
            flags: NEGOTIATE_UNICODE | NEGOTIATE_NTLM | NEGOTIATE_TARGET_INFO,
            server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            target_info,
        };
        let message = authenticate_message(
            &challenge,
            "Domain\\User",
            &SecretString::from("Password"),
            ClientNonce {
                client_challenge: [0xaa; 8],
                filetime: 0,
            },
        );
        let nt_response = payload(&message, 20).unwrap();
        assert_eq!(hex(&nt_response[..16]), "68cd0ab851e51c96aabc927bebef6a1c");
        assert_eq!(utf16_string(payload(&message, 36).unwrap()), "User");
        assert_eq!(utf16_string(payload(&message, 28).unwrap()), "Domain");
    }

    #[test]
    fn user_names_split_into_user_and_domain_like_windows() {
        assert_eq!(
            split_user("CONTOSO\\svc", Some("X")),
            ("svc".into(), "CONTOSO".into())
        );
        assert_eq!(
            split_user("svc@contoso.com", Some("X")),
            ("svc@contoso.com".into(), String::new())
        );
        assert_eq!(
            split_user("svc", Some("CONTOSO")),
            ("svc".into(), "CONTOSO".into())
        );
    }

    #[test]
    fn a_challenge_with_offsets_outside_the_message_is_refused() {
        let mut message = SIGNATURE.to_vec();
        message.extend_from_slice(&2u32.to_le_bytes());
        message.extend_from_slice(&[0; 8]);
        message.extend_from_slice(&(NEGOTIATE_TARGET_INFO | NEGOTIATE_UNICODE).to_le_bytes());
        message.extend_from_slice(&[7; 16]);
        message.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
        assert!(Challenge::parse(&message).is_err());
        assert!(Challenge::parse(b"garbage").is_err());
    }
}
