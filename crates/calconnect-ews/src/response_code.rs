//! EWS `ResponseCode` values the service-account test can meet, each with a plain message and the
//! Microsoft documentation page that explains it.
//!
//! Meanings follow the EWS reference page "ResponseCode" (learn.microsoft.com/exchange/client-developer/
//! web-service-reference/responsecode); every name here exists in `messages.xsd` `ResponseCodeType`.

use std::fmt;

/// The EWS reference page listing every response code.
pub const RESPONSE_CODE_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode";
const IMPERSONATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-configure-impersonation";
const THROTTLING_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange";
const AVAILABILITY_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseravailability-operation";
const FOLDER_PERMISSIONS_DOC: &str = "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-set-folder-permissions-for-another-user-by-using-ews-in-exchange";
const CALENDAR_VIEW_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview";

macro_rules! response_codes {
    ($($variant:ident => $message:literal, $doc:expr;)*) => {
        /// A typed EWS `ResponseCode`; codes this tool has no special text for are kept in [`ResponseCode::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum ResponseCode {
            $(
                #[doc = $message]
                $variant,
            )*
            /// Any other code, as the server spelled it.
            Other(String),
        }

        impl ResponseCode {
            /// Parses the text of a `ResponseCode` element.
            pub fn parse(code: &str) -> Self {
                match code.trim() {
                    $(stringify!($variant) => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The code as Exchange spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => stringify!($variant),)*
                    Self::Other(other) => other,
                }
            }

            /// A sentence an administrator understands.
            pub fn plain_message(&self) -> &'static str {
                match self {
                    $(Self::$variant => $message,)*
                    Self::Other(_) => "Exchange returned an error this tool has no explanation for; see the response code reference",
                }
            }

            /// The learn.microsoft.com page that documents this error and its fix.
            pub fn doc_url(&self) -> &'static str {
                match self {
                    $(Self::$variant => $doc,)*
                    Self::Other(_) => RESPONSE_CODE_DOC,
                }
            }
        }
    };
}

response_codes! {
    NoError => "The operation succeeded", RESPONSE_CODE_DOC;
    ErrorAccessDenied => "The service account lacks the rights for this action on this mailbox or folder", FOLDER_PERMISSIONS_DOC;
    ErrorImpersonateUserDenied => "The service account is not allowed to impersonate this mailbox (no ApplicationImpersonation role assignment covering it)", IMPERSONATION_DOC;
    ErrorImpersonationDenied => "The service account is not allowed to use impersonation on this Client Access server", IMPERSONATION_DOC;
    ErrorImpersonationFailed => "Impersonation failed inside Exchange (server-to-server trust or directory problem)", IMPERSONATION_DOC;
    ErrorInvalidExchangeImpersonationHeaderData => "The impersonation header named no mailbox", IMPERSONATION_DOC;
    ErrorInvalidUserPrincipalName => "The user principal name in the impersonation header is not valid", IMPERSONATION_DOC;
    ErrorInvalidUserSid => "The security identifier in the impersonation header is not valid", IMPERSONATION_DOC;
    ErrorNonExistentMailbox => "No mailbox exists for this address", RESPONSE_CODE_DOC;
    ErrorInvalidSmtpAddress => "The mailbox address is not a valid SMTP address", RESPONSE_CODE_DOC;
    ErrorNonPrimarySmtpAddress => "The address is not the mailbox's primary SMTP address; use the primary one", RESPONSE_CODE_DOC;
    ErrorFolderNotFound => "The folder does not exist or the service account has no permission on it", FOLDER_PERMISSIONS_DOC;
    ErrorItemNotFound => "The item does not exist or the service account has no permission on it", FOLDER_PERMISSIONS_DOC;
    ErrorMissingEmailAddress => "The service account has no mailbox of its own; name the target mailbox explicitly", RESPONSE_CODE_DOC;
    ErrorMailRecipientNotFound => "The availability service cannot find a mailbox for this address", AVAILABILITY_DOC;
    ErrorNoFreeBusyAccess => "The service account has no free/busy rights on this calendar", AVAILABILITY_DOC;
    ErrorFreeBusyGenerationFailed => "Exchange failed to compute free/busy information for this mailbox", AVAILABILITY_DOC;
    ErrorFreeBusyDLLimitReached => "The distribution list is too large to expand for free/busy", AVAILABILITY_DOC;
    ErrorProxyRequestNotAllowed => "Exchange refused to proxy the availability request to another server", AVAILABILITY_DOC;
    ErrorServerBusy => "Exchange is throttling the service account; retry after the back-off it asks for", THROTTLING_DOC;
    ErrorExceededConnectionCount => "The service account has too many concurrent connections (throttling policy)", THROTTLING_DOC;
    ErrorTooManyObjectsOpened => "The service account has too many objects open (throttling policy)", THROTTLING_DOC;
    ErrorCalendarViewRangeTooBig => "The calendar view spans more than two years", CALENDAR_VIEW_DOC;
    ErrorInvalidServerVersion => "The server does not support the requested Exchange schema version", RESPONSE_CODE_DOC;
    ErrorSchemaValidation => "The request did not validate against the EWS schema", RESPONSE_CODE_DOC;
    ErrorInvalidRequest => "The request is not valid", RESPONSE_CODE_DOC;
    ErrorInternalServerError => "Exchange hit an internal error", RESPONSE_CODE_DOC;
    ErrorInternalServerTransientError => "Exchange hit a transient internal error; retry later", RESPONSE_CODE_DOC;
    ErrorConnectionFailed => "Exchange could not reach the mailbox server", RESPONSE_CODE_DOC;
    ErrorMailboxMoveInProgress => "The mailbox is being moved; retry later", RESPONSE_CODE_DOC;
    ErrorMailboxStoreUnavailable => "The mailbox database is unavailable", RESPONSE_CODE_DOC;
}

impl ResponseCode {
    /// `true` for `NoError`.
    pub fn is_success(&self) -> bool {
        *self == Self::NoError
    }

    /// Codes that mean "the service account may not do this" rather than "something broke".
    pub fn is_permission_denial(&self) -> bool {
        matches!(
            self,
            Self::ErrorAccessDenied
                | Self::ErrorImpersonateUserDenied
                | Self::ErrorImpersonationDenied
                | Self::ErrorFolderNotFound
                | Self::ErrorItemNotFound
                | Self::ErrorNoFreeBusyAccess
        )
    }

    /// Codes that mean the mailbox address itself is wrong.
    pub fn is_unknown_mailbox(&self) -> bool {
        matches!(
            self,
            Self::ErrorNonExistentMailbox
                | Self::ErrorMailRecipientNotFound
                | Self::ErrorInvalidSmtpAddress
                | Self::ErrorNonPrimarySmtpAddress
        )
    }
}

impl From<String> for ResponseCode {
    fn from(code: String) -> Self {
        Self::parse(&code)
    }
}

impl From<ResponseCode> for String {
    fn from(code: ResponseCode) -> Self {
        code.as_str().to_owned()
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_round_trip_through_their_exchange_spelling() {
        for code in [
            "ErrorImpersonateUserDenied",
            "ErrorNoFreeBusyAccess",
            "ErrorServerBusy",
            "NoError",
        ] {
            let parsed = ResponseCode::parse(code);
            assert!(
                !matches!(parsed, ResponseCode::Other(_)),
                "{code} should be a known code"
            );
            assert_eq!(parsed.as_str(), code);
        }
    }

    #[test]
    fn unknown_codes_are_kept_verbatim_and_link_to_the_reference() {
        let parsed = ResponseCode::parse("ErrorSomethingNew");
        assert_eq!(parsed, ResponseCode::Other("ErrorSomethingNew".into()));
        assert_eq!(parsed.doc_url(), RESPONSE_CODE_DOC);
    }

    #[test]
    fn every_known_code_links_to_learn_microsoft_com() {
        let code = ResponseCode::ErrorImpersonateUserDenied;
        assert!(code.doc_url().starts_with("https://learn.microsoft.com/"));
        assert!(code.plain_message().contains("impersonate"));
    }
}
