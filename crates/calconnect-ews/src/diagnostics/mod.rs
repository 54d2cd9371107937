//! The Enterprise Connect service-account test: what Microsoft's Remote Connectivity Analyzer checks for
//! "Service Account Access (Developers)", in one place, for this setup.

mod config;
mod export;
mod report;
mod runner;
mod verdict;

pub use config::{Environment, TestConfig};
pub use report::{Report, Reporter, SilentReporter, Step, StepEvent, StepId, StepStatus};
pub use runner::run;
pub use verdict::{verdict, Access, AccessLevel, Blocker, Fix, Observations, Verdict};
