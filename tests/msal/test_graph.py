"""Graph with MSAL's access tokens, every answer checked against the Graph JSON Schema."""

from datetime import datetime, timedelta, timezone

import pytest

from demo_tenant import ADELE, FULL_APP, FULL_SCOPES, MEGAN
from flows import token_by_auth_code
from graph_api import Graph, schema_errors

MEGANS_CALENDARS = 25  # demo.rs: "many calendars, so /me/calendars pages"


@pytest.fixture
def graph_as(sandbox, make_app, make_person):
    """`graph_as(login)`: Graph with the Full app's token for `login`, and that token."""

    def sign_in(login):
        token = token_by_auth_code(make_app(FULL_APP), make_person(login), FULL_SCOPES)
        return Graph(sandbox, token), token

    return sign_in


def this_week():
    """Monday 00:00 UTC of the current week and a week later: the demo tenant's events are this week."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=7)


def graph_time(value):
    """Graph's dateTime ("2024-05-06T08:30:00.0000000", seven fraction digits) in UTC."""
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def test_me_is_the_signed_in_user(graph_as):
    graph, token = graph_as(MEGAN)
    response = graph.get("me")
    assert response.status_code == 200, response.text
    me = response.json()
    assert schema_errors("user", me) == []
    assert me["userPrincipalName"] == MEGAN
    assert me["id"] == token.id_token_claims.get("oid")


def test_calendars_follow_next_links_to_every_page(sandbox, graph_as):
    graph, _ = graph_as(MEGAN)
    calendars, pages = [], 0
    for response in graph.pages("me/calendars"):
        assert response.status_code == 200, response.text
        page = response.json()
        assert schema_errors("calendar", page, collection=True) == []
        next_link = page.get("@odata.nextLink")
        # Graph paging: the nextLink is the complete URL of the next page, to be used as is.
        assert next_link is None or next_link.startswith(sandbox.url("v1.0/me/calendars")), next_link
        calendars.extend(page["value"])
        pages += 1
    assert pages > 1, "25 calendars do not fit one default page"
    assert len(calendars) == MEGANS_CALENDARS
    assert len({calendar["id"] for calendar in calendars}) == MEGANS_CALENDARS


def test_get_schedule_reports_availability_per_interval(graph_as):
    graph, _ = graph_as(ADELE)
    start, end = this_week()
    interval_minutes = 60
    # Request body as in Graph's "calendar: getSchedule".
    body = {
        "schedules": [ADELE, MEGAN],
        "startTime": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "endTime": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "availabilityViewInterval": interval_minutes,
    }
    response = graph.post("me/calendar/getSchedule", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert schema_errors("scheduleInformation", answer, collection=True) == []
    schedules = answer["value"]
    assert [schedule["scheduleId"] for schedule in schedules] == [ADELE, MEGAN]
    slots = 7 * 24 * 60 // interval_minutes
    for schedule in schedules:
        view = schedule["availabilityView"]
        # One digit per interval: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere.
        assert len(view) == slots and set(view) <= set("01234"), schedule["scheduleId"]
    assert set(schedules[0]["availabilityView"]) != {"0"}, "Adele has a week of events"


def test_calendar_view_lists_the_events_of_the_window(graph_as):
    graph, _ = graph_as(ADELE)
    start, end = this_week()
    window = {"startDateTime": start.isoformat(), "endDateTime": end.isoformat()}
    events = []
    for response in graph.pages("me/calendarView", **window):
        assert response.status_code == 200, response.text
        page = response.json()
        assert schema_errors("event", page, collection=True) == []
        events.extend(page["value"])
    assert events, "Adele has a week of events"
    for event in events:
        # Without a Prefer: outlook.timezone header, Graph returns start and end in UTC.
        assert event["start"]["timeZone"] == event["end"]["timeZone"] == "UTC", event["id"]
        assert graph_time(event["start"]["dateTime"]) < end, event["id"]
        assert graph_time(event["end"]["dateTime"]) > start, event["id"]
