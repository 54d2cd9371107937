//! The Enterprise Connect service-account test: what Microsoft's Remote Connectivity Analyzer checks for
//! "Service Account Access (Developers)", in one place, for this setup — for one mailbox or many.

mod config;
mod export;
pub mod mailbox_list;
mod observations;
mod probe;
mod report;
mod route;
mod runner;
mod steps;
mod verdict;

pub use config::{Environment, TestConfig, DEFAULT_CONCURRENCY};
pub use observations::{Access, Blocker, MailboxObservations, Observations, RouteAccess};
pub use report::{
    Deployment, MailboxProgress, MailboxReport, Report, Reporter, SilentReporter, Step, StepEvent,
    StepId, StepStatus,
};
pub use route::Route;
pub use runner::run;
pub use verdict::{
    assess, mailbox_level, mailbox_verdict, verdict, AccessLevel, Assessment, Fix, Verdict,
    EXO_EWS_ALLOW_LIST_FROM, EXO_EWS_SHUTDOWN_ON,
};
