//! Integration tests of the sandbox over loopback HTTPS, driven like real clients and a real person.

mod admin_consent;
mod auth_code;
mod device_code;
mod discovery;
mod ews_operations;
mod ews_schema;
mod exchange_model;
mod faults;
mod graph;
mod graph_enterprise;
mod persistence;
mod refresh;
mod support;
mod teams;
