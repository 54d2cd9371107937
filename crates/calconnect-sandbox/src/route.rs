//! Route names: the vocabulary shared by fault knobs and the journal.

/// Names the route a request path belongs to (`token`, `graph.calendars`, `ews`...).
pub fn route_name(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.trim_matches('/').split('/').collect();
    let name = match segments.as_slice() {
        ["_sandbox", ..] => "admin",
        ["devicelogin", ..] => "devicelogin",
        ["ews", ..] => "ews",
        ["autodiscover", ..] => "autodiscover",
        ["v1.0", rest @ ..] => return graph_route(rest),
        ["oidc", "userinfo"] => "graph.userinfo",
        [_, "v2.0", ".well-known", "openid-configuration"] => "discovery",
        [_, "discovery", "v2.0", "keys"] => "keys",
        [_, "oauth2", "v2.0", "authorize"] => "authorize",
        [_, "oauth2", "v2.0", "token"] => "token",
        [_, "oauth2", "v2.0", "devicecode"] => "devicecode",
        [_, "login", ..] => "login",
        [""] => "home",
        _ => "other",
    };
    name.to_owned()
}

fn graph_route(rest: &[&str]) -> String {
    let name = match rest.last().copied() {
        _ if rest == ["me"] => "graph.me",
        _ if rest.contains(&"onlinemeetings") => "graph.onlineMeetings",
        _ if rest.first() == Some(&"organization") => "graph.organization",
        _ if matches!(rest, ["users"] | ["users", _]) => "graph.users",
        _ if rest.first() == Some(&"places") => "graph.places",
        Some("calendars") => "graph.calendars",
        Some("calendarview") => "graph.calendarView",
        Some("getschedule") => "graph.getSchedule",
        Some("onlinemeetings") => "graph.onlineMeetings",
        _ => "graph",
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::route_name;

    #[test]
    fn paths_map_to_the_documented_route_names() {
        assert_eq!(route_name("/common/oauth2/v2.0/token"), "token");
        assert_eq!(
            route_name("/contoso.com/oauth2/v2.0/devicecode"),
            "devicecode"
        );
        assert_eq!(route_name("/v1.0/me/calendars"), "graph.calendars");
        assert_eq!(
            route_name("/v1.0/me/calendar/getSchedule"),
            "graph.getSchedule"
        );
        assert_eq!(route_name("/v1.0/me"), "graph.me");
        assert_eq!(
            route_name("/v1.0/users/adele@contoso.com/onlineMeetings/MSo1"),
            "graph.onlineMeetings"
        );
        assert_eq!(
            route_name("/v1.0/me/onlineMeetings"),
            "graph.onlineMeetings"
        );
        assert_eq!(route_name("/v1.0/users/adele@contoso.com"), "graph.users");
        assert_eq!(route_name("/v1.0/organization"), "graph.organization");
        assert_eq!(route_name("/v1.0/users"), "graph.users");
        assert_eq!(
            route_name("/v1.0/places/microsoft.graph.room"),
            "graph.places"
        );
        assert_eq!(
            route_name("/v1.0/users/lee@contoso.com/calendarView"),
            "graph.calendarView"
        );
        assert_eq!(route_name("/EWS/Exchange.asmx"), "ews");
        assert_eq!(
            route_name("/organizations/v2.0/.well-known/openid-configuration"),
            "discovery"
        );
    }
}
