"""Sign-ins driven by MSAL, with the scripted person at the browser."""

import threading
import time
from urllib.parse import urlsplit

import pytest

from tokens import describe_error, issued

# A loopback redirect URI (the apps register `http://localhost`, any port). Nothing listens on it: the
# person hands the redirect or form to the test instead of sending it.
REDIRECT_URI = "http://localhost:53124"
DEVICE_FLOW_SECONDS = 60


def same_endpoint(url, expected):
    """Same scheme, host, port and path (an empty path is `/`), whatever the query."""
    left, right = urlsplit(url), urlsplit(expected)
    return (left.scheme, left.hostname, left.port, left.path or "/") == (
        right.scheme,
        right.hostname,
        right.port,
        right.path or "/",
    )


def authorization_response(app, person, scopes, response_mode="query"):
    """Runs the first leg; returns MSAL's flow and what the sandbox handed the person for the app."""
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT_URI, response_mode=response_mode)
    return flow, person.sign_in(flow["auth_uri"])


def token_by_auth_code(app, person, scopes, response_mode="query"):
    """A complete auth code sign-in; the redirect is read from its Location (query mode)."""
    flow, delivery = authorization_response(app, person, scopes, response_mode)
    response = delivery.auth_response()
    if "code" not in response:
        pytest.fail(f"no code from the sandbox: {delivery!r}: {describe_error(response)}")
    return issued(app.acquire_token_by_auth_code_flow(flow, response))


def token_by_device_code(app, person, scopes):
    """A device code sign-in: the person types the code while MSAL polls, as on two devices.

    Returns (verification_uri, heading of the person's last page, Issued).
    """
    flow = app.initiate_device_flow(scopes)
    if "user_code" not in flow:
        pytest.fail(f"the sandbox started no device flow: {describe_error(flow)}")
    outcome = {}
    person_gave_up = threading.Event()

    def enter_code():
        # Let MSAL's first poll see authorization_pending, so its polling loop is exercised too.
        time.sleep(1)
        try:
            outcome["page"] = person.enter_device_code(flow["verification_uri"], flow["user_code"])
        except Exception as error:  # re-raised in the test's thread below
            outcome["error"] = error
            person_gave_up.set()

    browser = threading.Thread(target=enter_code, daemon=True)
    browser.start()
    deadline = time.time() + DEVICE_FLOW_SECONDS
    result = app.acquire_token_by_device_flow(
        flow, exit_condition=lambda _: person_gave_up.is_set() or time.time() > deadline
    )
    browser.join(DEVICE_FLOW_SECONDS)
    if "error" in outcome:
        raise outcome["error"]
    return flow["verification_uri"], outcome.get("page"), issued(result)
