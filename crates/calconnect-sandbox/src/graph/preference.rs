//! The `Prefer: outlook.timezone="..."` request header (Graph "calendar: getSchedule", "List calendarView").
//!
//! Graph renders `dateTimeTimeZone` values in the preferred zone and confirms it with `Preference-Applied`.
//! The sandbox carries no time zone database, so it honours only UTC; any other zone is ignored rather
//! than refused (Graph has no error for it), answered in UTC without `Preference-Applied`. Each value is
//! labelled `"timeZone":"UTC"`, so a client that reads the label stays correct.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

/// The zone named by `Prefer: outlook.timezone`, if any (several `Prefer` headers or comma-separated
/// preferences are allowed).
pub fn preferred_time_zone(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            value.split(',').find_map(|preference| {
                let (name, zone) = preference.trim().split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("outlook.timezone")
                    .then(|| zone.trim().trim_matches('"').to_owned())
            })
        })
}

/// Adds `Preference-Applied: outlook.timezone="UTC"` when the request preferred UTC, the only zone the
/// sandbox renders in.
pub fn confirm_time_zone(headers: &HeaderMap, response: &mut Response) {
    if preferred_time_zone(headers).is_some_and(|zone| is_utc(&zone)) {
        response.headers_mut().insert(
            "preference-applied",
            HeaderValue::from_static("outlook.timezone=\"UTC\""),
        );
    }
}

/// Whether a Windows or IANA zone name means UTC.
pub fn is_utc(zone: &str) -> bool {
    [
        "UTC",
        "Etc/UTC",
        "Coordinated Universal Time",
        "Etc/GMT",
        "GMT",
    ]
    .iter()
    .any(|name| name.eq_ignore_ascii_case(zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_zone_is_found_among_other_preferences() {
        let mut headers = HeaderMap::new();
        headers.append("prefer", HeaderValue::from_static("odata.maxpagesize=5"));
        headers.append(
            "prefer",
            HeaderValue::from_static(
                "IdType=\"ImmutableId\", outlook.timezone=\"Pacific Standard Time\"",
            ),
        );
        assert_eq!(
            preferred_time_zone(&headers).as_deref(),
            Some("Pacific Standard Time")
        );
    }

    #[test]
    fn only_a_utc_preference_is_confirmed() {
        for (zone, confirmed) in [
            ("UTC", true),
            ("Etc/UTC", true),
            ("Pacific Standard Time", false),
        ] {
            let mut headers = HeaderMap::new();
            let value = format!("outlook.timezone=\"{zone}\"");
            headers.insert("prefer", HeaderValue::from_str(&value).expect("ascii"));
            let mut response = Response::default();
            confirm_time_zone(&headers, &mut response);
            assert_eq!(
                response.headers().contains_key("preference-applied"),
                confirmed,
                "{zone}"
            );
        }
    }
}
