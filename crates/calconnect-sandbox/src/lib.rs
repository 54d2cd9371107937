//! Offline emulator of the Microsoft identity platform, Microsoft Graph and Exchange Web Services.
//!
//! The sandbox is the demo tenant of the desktop app and the test double of every test. It behaves as
//! Microsoft documents (see `microsoft-protocol-facts.md`), never as our clients happen to want.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use calconnect_sandbox::{Sandbox, Tenant};
//!
//! let sandbox = Sandbox::builder()
//!     .tenant(Tenant::demo())
//!     .tls(true)
//!     .bind("127.0.0.1:0".parse()?)
//!     .start()
//!     .await?;
//! let authority = sandbox.authority("organizations"); // https://127.0.0.1:PORT/organizations/v2.0
//! let ca_pem = sandbox.ca_pem().expect("tls is on");    // trust anchor for reqwest
//! # let _ = (authority, ca_pem);
//! # Ok(()) }
//! ```
//!
//! How the parts relate: [`server`] binds the listener and runs every request through a front door that
//! applies [`fault`] knobs and writes the [`journal`]; the axum [`router`] dispatches to [`identity`],
//! [`graph`], [`ews`], [`autodiscover`] and [`admin`], which all read and write one [`state::AppState`]
//! (tenant, issued codes and tokens in [`store`], signing key, clock). [`person`] drives the HTML pages
//! like a human would, so tests exercise the real forms.

pub mod admin;
pub mod autodiscover;
pub mod clock;
pub mod demo;
pub mod error;
pub mod ews;
pub mod fault;
pub mod graph;
pub mod identity;
pub mod journal;
pub mod persistence;
pub mod person;
pub mod route;
pub mod scope;
pub mod server;
mod sha1;
pub mod signing;
pub mod state;
pub mod store;
pub mod tenant;
pub mod tls;

pub use error::{Error, Result};
pub use fault::{Fault, FaultControl};
pub use journal::JournalEntry;
pub use server::{SandboxBuilder, SandboxHandle};
pub use state::{AccessClaims, AppState, TokenRejection};
pub use tenant::Tenant;

/// Entry point: `Sandbox::builder()...start().await`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// A builder with the defaults: demo tenant, TLS, `127.0.0.1:0`.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

/// All routes with their state, without the front door (for `tower::ServiceExt::oneshot` tests).
pub fn router(state: state::AppState) -> axum::Router {
    axum::Router::new()
        .merge(identity::routes())
        .merge(graph::routes())
        .merge(ews::routes())
        .merge(autodiscover::routes())
        .merge(admin::routes(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            on_sandbox_clock,
        ))
        .with_state(state)
}

/// Error bodies rendered without the state still read the sandbox clock ([`clock::request_now`]).
async fn on_sandbox_clock(
    axum::extract::State(state): axum::extract::State<state::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    clock::serving(state.clock(), next.run(request)).await
}
