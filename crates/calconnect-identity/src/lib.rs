//! Microsoft identity platform client: discovery, browser sign-in with PKCE, device code, refresh.
//!
//! The crate speaks OAuth 2.0 to any standards-compliant authority (Microsoft 365 worldwide, US Government
//! GCC High or DoD, China, or the calconnect sandbox): endpoints come from the authority's OpenID discovery
//! document.
//!
//! - [`IdentityClient::begin_browser_sign_in`]: authorization code + PKCE S256 through the system browser and a
//!   loopback listener on 127.0.0.1 and ::1 (RFC 6749 §4.1, RFC 7636, RFC 8252).
//! - [`IdentityClient::start_device_code`] and [`IdentityClient::poll_device_code`]: device authorization grant (RFC 8628).
//! - [`IdentityClient::refresh`]: refresh token grant (RFC 6749 §6) with rotation.
//! - [`Error`]: every failure, with a plain message and a next step looked up from the AADSTS table ([`aadsts`]).
//!
//! ```no_run
//! # async fn example() -> calconnect_identity::Result<()> {
//! use calconnect_identity::{AppKind, AppRegistration, Authority, Cloud, IdentityClient};
//! let http = calconnect_identity::http_client(&calconnect_identity::Trust::default())?;
//! let authority = Authority::for_cloud(Cloud::Global, "organizations")?;
//! let app = AppRegistration::new(AppKind::FreeBusy, "00000000-0000-0000-0000-000000000000");
//! let client = IdentityClient::discover(http, authority, app).await?;
//! let device_code = client.start_device_code().await?;
//! println!("open {} and enter {}", device_code.verification_uri, device_code.user_code);
//! # Ok(()) }
//! ```

pub mod aadsts;
pub mod admin_consent;
pub mod app;
pub mod app_only;
pub mod authority;
pub mod browser;
pub mod client;
pub mod device_code;
pub mod discovery;
pub mod error;
/// The fuzz targets' properties (`fuzz/`), replayed over the committed corpus by this crate's tests.
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod loopback;
pub mod proxy;
pub mod redirect;
pub mod scopes;
pub mod text;
pub mod time;
pub mod token;
pub mod trust;

pub use aadsts::{AadError, ErrorKind};
pub use admin_consent::{AdminConsent, PermissionReason};
pub use app::{AppKind, AppRegistration};
pub use authority::{Authority, Cloud};
pub use browser::{BrowserOpener, SystemBrowser};
pub use client::{AuthorizeOptions, BrowserSignIn, IdentityClient, Prompt, SignIn};
pub use device_code::{DeviceCode, DeviceProgress, PollState};
pub use discovery::Discovery;
pub use error::{Error, Result};
pub use http::{ensure_secure_url, http_client};
pub use proxy::{ProxyConfig, ProxyProblem, ProxyProblemKind, ProxyRoute, ProxySummary};
pub use redirect::{RegisteredRedirect, DEFAULT_REDIRECT_URI};
pub use scopes::{AccessLevel, ScopeSet};
pub use time::{Clock, Sleeper, SystemClock, TokioSleeper};
pub use token::TokenSet;
pub use tokio_util::sync::CancellationToken;
pub use trust::{Trust, TrustError};
