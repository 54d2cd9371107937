"""What Microsoft documents the platform refuses or leaves out, seen through MSAL."""

from datetime import datetime, timedelta, timezone

from demo_tenant import ADELE, FREEBUSY_APP, FREEBUSY_SCOPES, FULL_APP, FULL_SCOPES
from flows import authorization_response, token_by_auth_code
from graph_api import Graph
from tokens import describe_error, issued


def test_token_scope_lists_permissions_but_not_offline_access(make_app, make_person):
    # MSAL sends openid profile offline_access besides the app's scopes. offline_access asks for a
    # refresh token; it is no permission of the access token, so the response's scope omits it.
    token = token_by_auth_code(make_app(FULL_APP), make_person(ADELE), FULL_SCOPES)
    assert "offline_access" not in token.scopes
    assert token.has_refresh_token
    assert {"User.Read", "Calendars.ReadWrite", "openid", "profile"} <= token.scopes


def test_an_authorization_code_is_redeemed_once(make_app, make_person):
    app = make_app(FULL_APP)
    flow, delivery = authorization_response(app, make_person(ADELE), FULL_SCOPES)
    response = delivery.auth_response()
    issued(app.acquire_token_by_auth_code_flow(flow, response))
    replay = app.acquire_token_by_auth_code_flow(flow, response)
    bought_a_token = "access_token" in replay  # not asserted on `replay`: pytest would print the token
    assert not bought_a_token, "a spent code bought a second token"
    error = describe_error(replay)
    # AADSTS54005: "OAuth2 Authorization code was already redeemed".
    assert error.get("error") == "invalid_grant", error
    assert 54005 in error.get("error_codes", []), error


def test_free_busy_app_reads_calendars_but_cannot_create_online_meetings(sandbox, make_app, make_person):
    token = token_by_auth_code(make_app(FREEBUSY_APP), make_person(ADELE), FREEBUSY_SCOPES)
    assert {"Calendars.ReadBasic", "User.Read"} <= token.scopes
    assert not token.scopes & {"Calendars.Read", "Calendars.ReadWrite", "OnlineMeetings.ReadWrite"}
    graph = Graph(sandbox, token)
    # Calendars.ReadBasic is the least privileged permission of "List calendars" ...
    assert graph.get("me/calendars").status_code == 200
    # ... and reads events "except for properties such as body, attachments, and extensions".
    start = datetime.now(timezone.utc) - timedelta(days=7)
    window = {"startDateTime": start.isoformat(), "endDateTime": (start + timedelta(days=14)).isoformat()}
    view = graph.get("me/calendarView", **window)
    assert view.status_code == 200, view.text
    events = view.json()["value"]
    assert events, "Adele has events around today"
    assert all(not {"body", "attachments", "extensions"} & set(event) for event in events)
    # "Create onlineMeeting" needs OnlineMeetings.ReadWrite, which the Free/Busy app does not hold.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    meeting = {
        "startDateTime": now.isoformat(),
        "endDateTime": (now + timedelta(hours=1)).isoformat(),
        "subject": "Refused",
    }
    refused = graph.post("me/onlineMeetings", meeting)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"], refused.text
