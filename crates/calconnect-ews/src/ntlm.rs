//! NTLMv2 messages for HTTP authentication to on-premises Exchange ([MS-NLMP]; carried as
//! `Authorization: NTLM <base64>` / `WWW-Authenticate: NTLM <base64>` as in RFC 4559 and [MS-NTHT]).
//!
//! The client sends a NEGOTIATE_MESSAGE, reads the server's CHALLENGE_MESSAGE and answers with an
//! AUTHENTICATE_MESSAGE carrying the NTLMv2 response (MS-NLMP 3.3.2). The NTLMv2 client challenge
//! carries the server's AV pairs plus what Extended Protection for Authentication checks
//! (MS-NLMP 3.1.5.1.2):
//!
//! - `MsvAvChannelBindings`: the MD5 of a `gss_channel_bindings_struct` whose application data is
//!   `tls-server-end-point:` and the RFC 5929 hash of the server certificate the TLS connection got
//!   ([`channel_bindings`]). Exchange 2019 CU14+ turns Extended Protection on by default; where EWS
//!   requires it, NTLM without this binding gets 401 even with the right password.
//! - `MsvAvTargetName`: the service principal name, `HTTP/<host>` ([`Binding::for_http`]).
//! - `MsvAvFlags` with 0x2 and a MIC (HMAC-MD5 over the three messages) when the server sent a
//!   `MsvAvTimestamp`, as Windows clients do.
//!
//! HTTP uses neither signing nor sealing, so no key is exchanged (no NEGOTIATE_KEY_EXCH): the
//! ExportedSessionKey that keys the MIC is the KeyExchangeKey, which for NTLMv2 is the SessionBaseKey
//! (MS-NLMP 3.4.5.1).
//!
//! The password is read from its [`SecretString`] straight into MD4; the NT hash, the NTOWFv2 key and the
//! session key live in zeroizing buffers and never leave this module.

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
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

/// What this client asks for: Unicode (OEM as fallback), the target's names, NTLM with extended session
/// security, and a Version field, as Windows clients do. No NEGOTIATE_KEY_EXCH: HTTP neither signs nor seals.
const CLIENT_FLAGS: u32 = NEGOTIATE_UNICODE
    | NEGOTIATE_OEM
    | REQUEST_TARGET
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_VERSION
    | NEGOTIATE_128
    | NEGOTIATE_56;

/// The VERSION structure (MS-NLMP 2.2.2.10) sent in NEGOTIATE and AUTHENTICATE: it is informational
/// ("used for debugging purposes only"); what counts is NTLMSSP_REVISION_W2K3 (15). Product 10.0, build 0:
/// this is not Windows and claims no Windows build.
const VERSION: [u8; 8] = [10, 0, 0, 0, 0, 0, 0, 15];

// AV_PAIR ids (MS-NLMP 2.2.2.1).
const MSV_AV_EOL: u16 = 0x0000;
const MSV_AV_NB_DOMAIN_NAME: u16 = 0x0002;
const MSV_AV_FLAGS: u16 = 0x0006;
const MSV_AV_TIMESTAMP: u16 = 0x0007;
const MSV_AV_TARGET_NAME: u16 = 0x0009;
const MSV_AV_CHANNEL_BINDINGS: u16 = 0x000A;

/// `MsvAvFlags` bit: the AUTHENTICATE_MESSAGE carries a MIC.
const AV_FLAG_MIC_PRESENT: u32 = 0x0000_0002;

/// AUTHENTICATE_MESSAGE layout (MS-NLMP 2.2.1.3): six security buffers and the flags end at 64, then
/// Version (8 bytes) and MIC (16 bytes); the payload follows.
const VERSION_OFFSET: usize = 64;
const MIC_OFFSET: usize = 72;
const AUTHENTICATE_PAYLOAD_OFFSET: usize = 88;

/// The workstation name sent in AUTHENTICATE_MESSAGE (informational for the server).
const WORKSTATION: &str = "CALCONNECT";

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_SECS: u64 = 11_644_473_600;

/// The NEGOTIATE_MESSAGE (type 1), without domain or workstation, with a Version (MS-NLMP 2.2.1.1).
/// The MIC covers it, so the bytes sent must be the bytes given to [`authenticate_message`].
pub fn negotiate_message() -> Vec<u8> {
    const LENGTH: u32 = 40;
    let mut message = Vec::with_capacity(LENGTH as usize);
    message.extend_from_slice(SIGNATURE);
    message.extend_from_slice(&1u32.to_le_bytes());
    message.extend_from_slice(&CLIENT_FLAGS.to_le_bytes());
    // DomainNameFields and WorkstationFields: empty, pointing at the end of the message.
    for _ in 0..2 {
        message.extend_from_slice(&[0, 0, 0, 0]);
        message.extend_from_slice(&LENGTH.to_le_bytes());
    }
    message.extend_from_slice(&VERSION);
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
    /// The whole message as received: the MIC covers it.
    message: Vec<u8>,
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
            message: message.to_vec(),
        })
    }

    /// The message as received.
    pub fn message(&self) -> &[u8] {
        &self.message
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

/// What an AUTHENTICATE_MESSAGE binds itself to (MS-NLMP 3.1.5.1.2): the service it is meant for and,
/// over TLS, the channel. Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// `MsvAvTargetName`: the service principal name, e.g. `HTTP/mail.contoso.com`.
    pub target_name: String,
    /// `MsvAvChannelBindings` ([`channel_bindings`]); `None` over plain HTTP, where there is no channel to
    /// bind to and the pair is left out.
    pub channel_bindings: Option<[u8; 16]>,
}

impl Binding {
    /// For HTTP to `host`: SPN `HTTP/<host>`, bound to `server_certificate` (DER, the leaf certificate of
    /// the TLS connection the handshake runs on) when there is one.
    pub fn for_http(host: &str, server_certificate: Option<&[u8]>) -> Self {
        Self {
            target_name: format!("HTTP/{host}"),
            channel_bindings: server_certificate.map(channel_bindings),
        }
    }
}

/// RFC 5929 `tls-server-end-point`: the hash of the server certificate (DER) with the hash function of
/// its signature algorithm, SHA-256 when that is MD5 or SHA-1 (RFC 5929 4.1). ASSUMPTION: signature
/// algorithms without a single SHA-2 hash (Ed25519, SHA-3, unknown or unreadable) use SHA-256 too, as
/// RFC 5929 defines nothing for them.
pub fn tls_server_end_point(certificate: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    match certificate_hash(certificate) {
        EndPointHash::Sha224 => sha2::Sha224::digest(certificate).to_vec(),
        EndPointHash::Sha256 => sha2::Sha256::digest(certificate).to_vec(),
        EndPointHash::Sha384 => sha2::Sha384::digest(certificate).to_vec(),
        EndPointHash::Sha512 => sha2::Sha512::digest(certificate).to_vec(),
    }
}

/// `MsvAvChannelBindings` for a TLS connection whose server certificate (DER) is `certificate`: the MD5
/// of a `gss_channel_bindings_struct` (RFC 2744 3.11) with empty addresses and the application data
/// `tls-server-end-point:` ‖ [`tls_server_end_point`] (MS-NLMP 3.1.5.2.2), each field little-endian
/// and length-prefixed as SSPI lays it out.
pub fn channel_bindings(certificate: &[u8]) -> [u8; 16] {
    let mut application_data = b"tls-server-end-point:".to_vec();
    application_data.extend_from_slice(&tls_server_end_point(certificate));
    channel_bindings_for(&application_data)
}

fn channel_bindings_for(application_data: &[u8]) -> [u8; 16] {
    let mut structure = Vec::with_capacity(20 + application_data.len());
    // initiator_addrtype, initiator_address.length, acceptor_addrtype, acceptor_address.length: all 0.
    structure.extend_from_slice(&[0; 16]);
    structure.extend_from_slice(
        &u32::try_from(application_data.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    structure.extend_from_slice(application_data);
    Md5::digest(&structure).into()
}

/// The hash RFC 5929 picks for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndPointHash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The certificate's `signatureAlgorithm` read with a minimal DER walk: `Certificate ::= SEQUENCE {
/// tbsCertificate SEQUENCE, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }`.
fn certificate_hash(certificate: &[u8]) -> EndPointHash {
    signature_hash(certificate).unwrap_or(EndPointHash::Sha256)
}

fn signature_hash(certificate: &[u8]) -> Option<EndPointHash> {
    let (SEQUENCE, certificate, _) = der(certificate)? else {
        return None;
    };
    let (SEQUENCE, _, rest) = der(certificate)? else {
        return None;
    };
    let (SEQUENCE, algorithm, _) = der(rest)? else {
        return None;
    };
    let (OBJECT_IDENTIFIER, oid, parameters) = der(algorithm)? else {
        return None;
    };
    // 1.2.840.113549.1.1.x (PKCS #1) and 1.2.840.10045.4.3.x (ECDSA with SHA-2).
    const PKCS1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA_SHA2: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    if let Some(&[last]) = oid.strip_prefix(PKCS1) {
        return match last {
            // sha224WithRSAEncryption, sha256…, sha384…, sha512… (md5 = 4 and sha1 = 5 map to SHA-256).
            14 => Some(EndPointHash::Sha224),
            11 => Some(EndPointHash::Sha256),
            12 => Some(EndPointHash::Sha384),
            13 => Some(EndPointHash::Sha512),
            // RSASSA-PSS: the hash is in the parameters.
            10 => pss_hash(parameters),
            _ => None,
        };
    }
    if let Some(&[last]) = oid.strip_prefix(ECDSA_SHA2) {
        return match last {
            1 => Some(EndPointHash::Sha224),
            2 => Some(EndPointHash::Sha256),
            3 => Some(EndPointHash::Sha384),
            4 => Some(EndPointHash::Sha512),
            _ => None,
        };
    }
    None
}

/// `RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1, … }` (RFC 4055).
fn pss_hash(parameters: &[u8]) -> Option<EndPointHash> {
    // 2.16.840.1.101.3.4.2.x: the NIST hash algorithms.
    const NIST_HASH: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
    let (SEQUENCE, parameters, _) = der(parameters)? else {
        return None;
    };
    let (0xa0, hash, _) = der(parameters)? else {
        return None; // sha1 by default: SHA-256.
    };
    let (SEQUENCE, hash, _) = der(hash)? else {
        return None;
    };
    let (OBJECT_IDENTIFIER, oid, _) = der(hash)? else {
        return None;
    };
    match oid.strip_prefix(NIST_HASH)? {
        [1] => Some(EndPointHash::Sha256),
        [2] => Some(EndPointHash::Sha384),
        [3] => Some(EndPointHash::Sha512),
        [4] => Some(EndPointHash::Sha224),
        _ => None,
    }
}

const SEQUENCE: u8 = 0x30;
const OBJECT_IDENTIFIER: u8 = 0x06;

/// One DER element: (tag, contents, what follows). Single-byte tags and definite lengths only.
fn der(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (length, rest) = rest.split_at_checked(count)?;
        let length = length
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, rest)
    };
    let (contents, rest) = rest.split_at_checked(length)?;
    Some((tag, contents, rest))
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

/// The AUTHENTICATE_MESSAGE (type 3, MS-NLMP 2.2.1.3) answering `challenge` with an NTLMv2 response,
/// bound to `binding`. `negotiate` is the NEGOTIATE_MESSAGE sent on this connection (the MIC covers it).
pub fn authenticate_message(
    negotiate: &[u8],
    challenge: &Challenge,
    username: &str,
    password: &SecretString,
    binding: &Binding,
    nonce: ClientNonce,
) -> Vec<u8> {
    let server_domain = challenge.netbios_domain();
    let (user, domain) = split_user(username, server_domain.as_deref());
    let key = ntowf_v2(password, &user, &domain);
    // A server timestamp means a server that checks MICs: send one, as Windows does (MS-NLMP 3.1.5.1.2).
    let server_timestamp = challenge.timestamp();
    let with_mic = server_timestamp.is_some();
    let timestamp = server_timestamp.unwrap_or_else(|| nonce.filetime.to_le_bytes());

    // NTLMv2_CLIENT_CHALLENGE ("temp" in MS-NLMP 3.3.2): versions, reserved, time, nonce, reserved,
    // the AV pairs (ending in MsvAvEOL), reserved.
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&timestamp);
    blob.extend_from_slice(&nonce.client_challenge);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&client_target_info(
        &challenge.target_info,
        binding,
        with_mic,
    ));
    blob.extend_from_slice(&[0; 4]);
    let (nt_response, session_base_key) = ntlmv2_response(&key, &challenge.server_challenge, &blob);
    // With MsvAvTimestamp the LM response is all zeros (MS-NLMP 3.1.5.1.2); otherwise LMv2.
    let lm_response = if with_mic {
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

    let flags = (challenge.flags & CLIENT_FLAGS) | NEGOTIATE_NTLM | NEGOTIATE_VERSION;
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
    let mut message = Vec::with_capacity(
        AUTHENTICATE_PAYLOAD_OFFSET + payloads.iter().map(Vec::len).sum::<usize>(),
    );
    message.extend_from_slice(SIGNATURE);
    message.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = AUTHENTICATE_PAYLOAD_OFFSET;
    for payload in &payloads {
        let length = u16::try_from(payload.len()).unwrap_or(u16::MAX);
        message.extend_from_slice(&length.to_le_bytes());
        message.extend_from_slice(&length.to_le_bytes());
        message.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
        offset += payload.len();
    }
    message.extend_from_slice(&flags.to_le_bytes());
    debug_assert_eq!(message.len(), VERSION_OFFSET);
    message.extend_from_slice(&VERSION);
    // The MIC, zero while it is computed over the message itself.
    message.extend_from_slice(&[0; 16]);
    for payload in &payloads {
        message.extend_from_slice(payload);
    }
    if with_mic {
        // No key exchange: ExportedSessionKey = KeyExchangeKey = SessionBaseKey (MS-NLMP 3.4.5.1).
        let value = mic(&session_base_key, negotiate, challenge.message(), &message);
        message[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&value);
    }
    message
}

/// The AV pairs of the client's NTLMv2 blob: the server's TargetInfo (without its MsvAvEOL), then
/// MsvAvChannelBindings (over TLS), MsvAvTargetName and, with a MIC, MsvAvFlags, then MsvAvEOL. Pairs
/// the client sets itself replace any the server sent; a server MsvAvFlags value is kept and extended.
fn client_target_info(server: &[u8], binding: &Binding, with_mic: bool) -> Vec<u8> {
    let mut info = Vec::with_capacity(server.len() + 64);
    let mut av_flags = 0u32;
    // Challenge::parse checked the list.
    for (id, value) in av_pairs(server).unwrap_or_default() {
        match id {
            MSV_AV_FLAGS => av_flags |= read_u32(value, 0).unwrap_or_default(),
            MSV_AV_CHANNEL_BINDINGS | MSV_AV_TARGET_NAME => {}
            _ => push_av_pair(&mut info, id, value),
        }
    }
    if let Some(channel_bindings) = &binding.channel_bindings {
        push_av_pair(&mut info, MSV_AV_CHANNEL_BINDINGS, channel_bindings);
    }
    push_av_pair(
        &mut info,
        MSV_AV_TARGET_NAME,
        &utf16le(&binding.target_name),
    );
    if with_mic {
        av_flags |= AV_FLAG_MIC_PRESENT;
    }
    if av_flags != 0 {
        push_av_pair(&mut info, MSV_AV_FLAGS, &av_flags.to_le_bytes());
    }
    push_av_pair(&mut info, MSV_AV_EOL, &[]);
    info
}

fn push_av_pair(info: &mut Vec<u8>, id: u16, value: &[u8]) {
    info.extend_from_slice(&id.to_le_bytes());
    info.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
    info.extend_from_slice(value);
}

/// NTLMv2 (MS-NLMP 3.3.2): NTProofStr = HMAC-MD5(NTOWFv2, ServerChallenge ‖ temp), the response
/// NTProofStr ‖ temp, and SessionBaseKey = HMAC-MD5(NTOWFv2, NTProofStr).
fn ntlmv2_response(
    key: &[u8; 16],
    server_challenge: &[u8; 8],
    blob: &[u8],
) -> (Vec<u8>, Zeroizing<[u8; 16]>) {
    let proof = hmac_md5(key, &[server_challenge, blob]);
    let session_base_key = Zeroizing::new(hmac_md5(key, &[&proof]));
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(blob);
    (nt_response, session_base_key)
}

/// MIC = HMAC-MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE with a zero MIC)
/// (MS-NLMP 3.1.5.1.2).
fn mic(
    exported_session_key: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> [u8; 16] {
    hmac_md5(exported_session_key, &[negotiate, challenge, authenticate])
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

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    }

    /// The AV pairs of MS-NLMP 4.2.4 (MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server"), with
    /// `extra` before MsvAvEOL.
    fn ms_nlmp_target_info(extra: &[(u16, &[u8])]) -> Vec<u8> {
        let mut info = Vec::new();
        push_av_pair(&mut info, MSV_AV_NB_DOMAIN_NAME, &utf16le("Domain"));
        push_av_pair(&mut info, 1, &utf16le("Server"));
        for (id, value) in extra {
            push_av_pair(&mut info, *id, value);
        }
        push_av_pair(&mut info, MSV_AV_EOL, &[]);
        info
    }

    /// A CHALLENGE_MESSAGE with the MS-NLMP 4.2.4 server challenge, no target name and no Version.
    fn challenge(flags: u32, target_info: &[u8]) -> Challenge {
        let mut message = SIGNATURE.to_vec();
        message.extend_from_slice(&2u32.to_le_bytes());
        message.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]);
        message.extend_from_slice(&(flags | NEGOTIATE_TARGET_INFO).to_le_bytes());
        message.extend_from_slice(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
        message.extend_from_slice(&[0; 8]);
        let length = u16::try_from(target_info.len()).unwrap();
        message.extend_from_slice(&length.to_le_bytes());
        message.extend_from_slice(&length.to_le_bytes());
        message.extend_from_slice(&48u32.to_le_bytes());
        message.extend_from_slice(target_info);
        Challenge::parse(&message).unwrap()
    }

    /// MS-NLMP 4.2.4's ClientChallenge and Time.
    const MS_NLMP_NONCE: ClientNonce = ClientNonce {
        client_challenge: [0xaa; 8],
        filetime: 0,
    };

    /// The certificate hash of jborean93/ntlm-auth's channel-binding tests (tests/test_messages.py).
    const NTLM_AUTH_CERTIFICATE_HASH: &str =
        "e3ca49271e5089cc48ce82109f1324f41dbeddc29a777410c738f7868c4ff405";

    /// The AV pairs inside an AUTHENTICATE_MESSAGE's NTLMv2 response.
    fn response_av_pairs(message: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let nt_response = payload(message, 20).unwrap();
        av_pairs(&nt_response[16 + 28..])
            .unwrap()
            .into_iter()
            .map(|(id, value)| (id, value.to_vec()))
            .collect()
    }

    /// MS-NLMP 4.2.4.1.1 NTOWFv2() with User "User", UserDom "Domain", Passwd "Password".
    #[test]
    fn ntowf_v2_matches_the_ms_nlmp_test_vector() {
        let key = ntowf_v2(&SecretString::from("Password"), "User", "Domain");
        assert_eq!(hex(&key[..]), "0c868a403bfd7a93a3001ef22ef02e3f");
    }

    /// MS-NLMP 4.2.4.2.2 (NTLMv2 response, NTProofStr) and 4.2.4.1.2 (SessionBaseKey) for the
    /// example's temp: time 0, client challenge aa…, the "Domain"/"Server" AV pairs.
    #[test]
    fn the_ntlmv2_proof_and_session_base_key_match_the_ms_nlmp_test_vector() {
        let key = ntowf_v2(&SecretString::from("Password"), "User", "Domain");
        let mut temp = vec![1, 1, 0, 0, 0, 0, 0, 0];
        temp.extend_from_slice(&[0; 8]);
        temp.extend_from_slice(&[0xaa; 8]);
        temp.extend_from_slice(&[0; 4]);
        temp.extend_from_slice(&ms_nlmp_target_info(&[]));
        temp.extend_from_slice(&[0; 4]);
        let server_challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        let (nt_response, session_base_key) = ntlmv2_response(&key, &server_challenge, &temp);
        assert_eq!(hex(&nt_response[..16]), "68cd0ab851e51c96aabc927bebef6a1c");
        assert_eq!(&nt_response[16..], &temp[..]);
        assert_eq!(
            hex(&session_base_key[..]),
            "8de40ccadbc14a82f15cb0ad0de95ca3"
        );
    }

    /// jborean93/ntlm-auth tests/test_messages.py `test_authenticate_message_with_cbt`: the
    /// `MsvAvChannelBindings` value for its `tls-server-end-point` certificate hash.
    #[test]
    fn the_channel_binding_matches_the_ntlm_auth_test_vector() {
        let mut application_data = b"tls-server-end-point:".to_vec();
        application_data.extend_from_slice(&unhex(NTLM_AUTH_CERTIFICATE_HASH));
        assert_eq!(
            hex(&channel_bindings_for(&application_data)),
            "6ea19df066da4622051f9c4f92c6df74"
        );
    }

    /// jborean93/ntlm-auth tests/test_messages.py `test_authenticate_message_with_mic`: ExportedSessionKey
    /// 55…, its NEGOTIATE and CHALLENGE, the AUTHENTICATE with a zero MIC; the MIC it expects at offset 72.
    #[test]
    fn the_mic_matches_the_ntlm_auth_test_vector() {
        let negotiate = unhex(
            "4e544c4d535350000100000031b28ae20600060028000000080008002e0000000601b11d0000000f446f6d61\
             696e434f4d5055544552",
        );
        let challenge = unhex(
            "4e544c4d535350000200000003000c003800000033828ae20123456789abcdef000000000000000024002400\
             44000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c00\
             53006500720076006500720000000000",
        );
        let authenticate = unhex(
            "4e544c4d5353500003000000180018007c0000007c007c00940000000c000c00580000000800080064000000\
             100010006c000000100010001001000031828ae20601b11d0000000f00000000000000000000000000000000\
             44006f006d00610069006e00550073006500720043004f004d00500055005400450052000000000000000000\
             00000000000000000000000000000000a13d038ad0ca026433897c335e0f56df010100000000000000000000\
             00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600\
             6500720007000800000000000000000006000400020000000a0010006ea19df066da4622051f9c4f92c6df74\
             00000000000000001d0889d1a5eeed21919e1ab827c30b17",
        );
        assert_eq!(
            hex(&mic(&[0x55; 16], &negotiate, &challenge, &authenticate)),
            "d2a145dea4253e1910fe0f5b7a0d2a90"
        );
    }

    /// The whole exchange for the MS-NLMP 4.2.4 inputs (CHALLENGE flags e28a8233 with MsvAvTimestamp 0),
    /// bound to `HTTP/mail.contoso.com` and the ntlm-auth certificate hash, as jborean93/pyspnego builds it:
    /// its `Negotiate`, `Challenge`, `compute_response_v2`, `GssChannelBindings` and `Authenticate`, with
    /// the AV-pair policy of its `_compute_response` (`src/spnego/_ntlm.py`) and this client's flags,
    /// workstation and Version.
    #[test]
    fn the_authenticate_message_matches_pyspnego_for_the_ms_nlmp_inputs() {
        let negotiate = negotiate_message();
        assert_eq!(
            hex(&negotiate),
            "4e544c4d5353500001000000078208a2000000002800000000000000280000000a0000000000000f"
        );
        let challenge = Challenge::parse(&unhex(
            "4e544c4d53535000020000000c000c003800000037828ae20123456789abcdef000000000000000030003000\
             44000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c00\
             53006500720076006500720007000800000000000000000000000000",
        ))
        .unwrap();
        let mut binding = Binding::for_http("mail.contoso.com", None);
        binding.channel_bindings = Some(
            unhex("6ea19df066da4622051f9c4f92c6df74")
                .try_into()
                .unwrap(),
        );
        let message = authenticate_message(
            &negotiate,
            &challenge,
            "Domain\\User",
            &SecretString::from("Password"),
            &binding,
            MS_NLMP_NONCE,
        );
        assert_eq!(
            hex(&message),
            "4e544c4d53535000030000001800180058000000aa00aa00700000000c000c001a0100000800080026010000\
             140014002e0100000000000042010000078208a20a0000000000000fe50296497a605636048b378745c9448c\
             000000000000000000000000000000000000000000000000618fc895a1ae4d0538767da4767f27a801010000\
             000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c00\
             5300650072007600650072000700080000000000000000000a0010006ea19df066da4622051f9c4f92c6df74\
             09002a0048005400540050002f006d00610069006c002e0063006f006e0074006f0073006f002e0063006f00\
             6d000600040002000000000000000000000044006f006d00610069006e005500730065007200430041004c00\
             43004f004e004e00450043005400"
        );
    }

    #[test]
    fn the_mic_covers_all_three_messages_with_the_session_base_key() {
        let challenge = challenge(
            NEGOTIATE_UNICODE | NEGOTIATE_NTLM,
            &ms_nlmp_target_info(&[(MSV_AV_TIMESTAMP, &[0; 8])]),
        );
        let negotiate = negotiate_message();
        let password = SecretString::from("Password");
        let binding = Binding::for_http("mail.contoso.com", Some(b"a certificate"));
        let message = authenticate_message(
            &negotiate,
            &challenge,
            "Domain\\User",
            &password,
            &binding,
            MS_NLMP_NONCE,
        );
        assert_eq!(&message[VERSION_OFFSET..MIC_OFFSET], &VERSION);
        assert_ne!(read_u32(&message, 60).unwrap() & NEGOTIATE_VERSION, 0);
        let nt_response = payload(&message, 20).unwrap();
        let key = ntowf_v2(&password, "User", "Domain");
        let session_base_key = hmac_md5(&key[..], &[&nt_response[..16]]);
        let mut zeroed = message.clone();
        zeroed[MIC_OFFSET..MIC_OFFSET + 16].fill(0);
        assert_eq!(
            &message[MIC_OFFSET..MIC_OFFSET + 16],
            &mic(&session_base_key, &negotiate, challenge.message(), &zeroed)
        );
        // With a MIC the LM response is Z(24) (MS-NLMP 3.1.5.1.2).
        assert_eq!(payload(&message, 12).unwrap(), &[0; 24]);
        let pairs = response_av_pairs(&message);
        assert_eq!(
            pairs.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![
                MSV_AV_NB_DOMAIN_NAME,
                1,
                MSV_AV_TIMESTAMP,
                MSV_AV_CHANNEL_BINDINGS,
                MSV_AV_TARGET_NAME,
                MSV_AV_FLAGS
            ]
        );
        assert_eq!(pairs[3].1, channel_bindings(b"a certificate"));
        assert_eq!(utf16_string(&pairs[4].1), "HTTP/mail.contoso.com");
        assert_eq!(pairs[5].1, AV_FLAG_MIC_PRESENT.to_le_bytes());
    }

    #[test]
    fn without_a_server_timestamp_there_is_no_mic_and_over_plain_http_no_channel_binding() {
        let challenge = challenge(
            NEGOTIATE_UNICODE | NEGOTIATE_NTLM,
            &ms_nlmp_target_info(&[]),
        );
        let message = authenticate_message(
            &negotiate_message(),
            &challenge,
            "Domain\\User",
            &SecretString::from("Password"),
            &Binding::for_http("localhost", None),
            MS_NLMP_NONCE,
        );
        assert_eq!(&message[MIC_OFFSET..MIC_OFFSET + 16], &[0; 16]);
        let pairs = response_av_pairs(&message);
        assert_eq!(
            pairs.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![MSV_AV_NB_DOMAIN_NAME, 1, MSV_AV_TARGET_NAME]
        );
        // LMv2 (MS-NLMP 4.2.4.2.1) when there is no timestamp.
        assert_eq!(
            hex(payload(&message, 12).unwrap()),
            "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
        );
    }

    #[test]
    fn pairs_the_client_sets_replace_the_servers_and_server_flags_are_kept() {
        let challenge = challenge(
            NEGOTIATE_UNICODE | NEGOTIATE_NTLM,
            &ms_nlmp_target_info(&[
                (MSV_AV_TIMESTAMP, &[0; 8]),
                (MSV_AV_FLAGS, &1u32.to_le_bytes()),
                (MSV_AV_TARGET_NAME, &utf16le("HTTP/elsewhere")),
                (MSV_AV_CHANNEL_BINDINGS, &[9; 16]),
            ]),
        );
        let message = authenticate_message(
            &negotiate_message(),
            &challenge,
            "User",
            &SecretString::from("Password"),
            &Binding::for_http("mail.contoso.com", Some(b"certificate")),
            MS_NLMP_NONCE,
        );
        let pairs = response_av_pairs(&message);
        let find = |wanted: u16| -> Vec<&Vec<u8>> {
            pairs
                .iter()
                .filter(|(id, _)| *id == wanted)
                .map(|(_, value)| value)
                .collect()
        };
        assert_eq!(find(MSV_AV_FLAGS), vec![&3u32.to_le_bytes().to_vec()]);
        assert_eq!(
            find(MSV_AV_TARGET_NAME),
            vec![&utf16le("HTTP/mail.contoso.com")]
        );
        assert_eq!(
            find(MSV_AV_CHANNEL_BINDINGS),
            vec![&channel_bindings(b"certificate").to_vec()]
        );
    }

    #[test]
    fn the_authenticate_message_carries_no_password_nt_hash_or_key() {
        let password = SecretString::from("Password");
        let challenge = challenge(
            NEGOTIATE_UNICODE | NEGOTIATE_NTLM,
            &ms_nlmp_target_info(&[(MSV_AV_TIMESTAMP, &[0; 8])]),
        );
        let message = authenticate_message(
            &negotiate_message(),
            &challenge,
            "Domain\\User",
            &password,
            &Binding::for_http("mail.contoso.com", None),
            MS_NLMP_NONCE,
        );
        let key = ntowf_v2(&password, "User", "Domain");
        let nt_hash = Md4::digest(utf16le("Password"));
        for secret in [utf16le("Password"), key.to_vec(), nt_hash.to_vec()] {
            assert!(!message.windows(secret.len()).any(|window| window == secret));
        }
        let debug = format!("{challenge:?} {:?}", Binding::for_http("h", None));
        assert!(!debug.contains("Password"), "{debug}");
    }

    /// A DER `Certificate` with an empty TBSCertificate and the given AlgorithmIdentifier contents.
    fn certificate_signed_with(algorithm: &[u8]) -> Vec<u8> {
        fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
            let mut element = vec![tag];
            match contents.len() {
                length @ 0..=0x7f => element.push(length as u8),
                length => {
                    element.push(0x82);
                    element.extend_from_slice(&(length as u16).to_be_bytes());
                }
            }
            element.extend_from_slice(contents);
            element
        }
        let mut body = tlv(SEQUENCE, &[0x02, 0x01, 0x02]);
        body.extend(tlv(SEQUENCE, algorithm));
        body.extend(tlv(0x03, &[0; 300]));
        tlv(SEQUENCE, &body)
    }

    fn oid(bytes: &[u8]) -> Vec<u8> {
        let mut element = vec![OBJECT_IDENTIFIER, bytes.len() as u8];
        element.extend_from_slice(bytes);
        element
    }

    /// RFC 5929 4.1: the hash of the signature algorithm, SHA-256 for MD5 and SHA-1.
    #[test]
    fn tls_server_end_point_hashes_with_the_certificates_signature_hash() {
        use sha2::Digest as _;
        let rsa = |last: u8| {
            let mut algorithm = oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last]);
            algorithm.extend_from_slice(&[0x05, 0x00]);
            algorithm
        };
        let ecdsa = |last: u8| oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, last]);
        let pss = |hash: Option<u8>| {
            let mut algorithm = oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 10]);
            let mut parameters = Vec::new();
            if let Some(last) = hash {
                let identifier = oid(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, last]);
                let mut sequence = vec![SEQUENCE, identifier.len() as u8];
                sequence.extend(identifier);
                parameters.extend([0xa0, sequence.len() as u8]);
                parameters.extend(sequence);
            }
            algorithm.extend([SEQUENCE, parameters.len() as u8]);
            algorithm.extend(parameters);
            algorithm
        };
        let cases: Vec<(&str, Vec<u8>, EndPointHash)> = vec![
            ("md5WithRSAEncryption", rsa(4), EndPointHash::Sha256),
            ("sha1WithRSAEncryption", rsa(5), EndPointHash::Sha256),
            ("sha224WithRSAEncryption", rsa(14), EndPointHash::Sha224),
            ("sha256WithRSAEncryption", rsa(11), EndPointHash::Sha256),
            ("sha384WithRSAEncryption", rsa(12), EndPointHash::Sha384),
            ("sha512WithRSAEncryption", rsa(13), EndPointHash::Sha512),
            ("ecdsa-with-SHA256", ecdsa(2), EndPointHash::Sha256),
            ("ecdsa-with-SHA384", ecdsa(3), EndPointHash::Sha384),
            ("ecdsa-with-SHA512", ecdsa(4), EndPointHash::Sha512),
            ("RSASSA-PSS SHA-384", pss(Some(2)), EndPointHash::Sha384),
            ("RSASSA-PSS default SHA-1", pss(None), EndPointHash::Sha256),
            ("Ed25519", oid(&[0x2b, 0x65, 0x70]), EndPointHash::Sha256),
        ];
        for (name, algorithm, expected) in cases {
            let certificate = certificate_signed_with(&algorithm);
            assert_eq!(certificate_hash(&certificate), expected, "{name}");
        }
        let certificate = certificate_signed_with(&rsa(12));
        assert_eq!(
            tls_server_end_point(&certificate),
            sha2::Sha384::digest(&certificate).to_vec()
        );
        // Not a certificate: SHA-256 of the bytes, as for every unknown algorithm.
        assert_eq!(
            tls_server_end_point(b"garbage"),
            sha2::Sha256::digest(b"garbage").to_vec()
        );
        assert_eq!(
            certificate_hash(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            EndPointHash::Sha256
        );
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
