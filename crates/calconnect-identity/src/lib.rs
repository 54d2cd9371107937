//! Microsoft identity platform client: discovery, browser sign-in with PKCE, device code, refresh.
