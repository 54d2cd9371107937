//! Offline emulator of the Microsoft identity platform, Microsoft Graph and Exchange Web Services.
