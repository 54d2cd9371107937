//! Integration tests of calconnect-ews: request bodies against the EWS schema, the service-account test
//! against the sandbox's EWS over loopback, and the client against hostile servers (`hostile`).

mod autodiscover;
mod credentials;
mod exchange_2026;
mod hostile;
mod ntlm;
mod schema;
mod service_account;
mod token;
