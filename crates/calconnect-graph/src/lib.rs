//! Microsoft Graph client for the calendar APIs calconnect uses.
