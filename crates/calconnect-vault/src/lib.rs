//! Token storage in the OS keychain, chunked to fit every platform's secret size limit.
