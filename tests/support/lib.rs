//! Support for end-to-end tests: launching the app under WebDriver.
