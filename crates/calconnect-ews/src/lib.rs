//! Exchange Web Services client and the Enterprise Connect service-account test.
