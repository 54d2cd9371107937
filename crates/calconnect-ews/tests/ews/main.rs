//! Integration tests of calconnect-ews: request bodies against the EWS schema, and the service-account test
//! against the sandbox's EWS over loopback.

mod autodiscover;
mod credentials;
mod exchange_2026;
mod ntlm;
mod schema;
mod service_account;
mod token;
