"""MSAL's sign-in flows against the sandbox: device code, auth code (query and form_post), interactive."""

import json
import shlex
import sys
import time
from pathlib import Path

import pytest
from msal import BrowserInteractionTimeoutError

from demo_tenant import ADELE, FULL_APP, FULL_SCOPES, MEGAN, TENANT_ID
from flows import REDIRECT_URI, authorization_response, same_endpoint, token_by_device_code
from tokens import describe_error, issued

BROWSER_PERSON = Path(__file__).resolve().parent / "browser_person.py"
# Python's webbrowser reads $BROWSER once per process, so the command is the same for every test;
# what varies travels in the person's environment. `&` makes webbrowser start it in the background:
# MSAL opens the browser before it serves its loopback listener, so a waited-for browser would hang.
BROWSER_COMMAND = f"{shlex.quote(sys.executable)} {shlex.quote(str(BROWSER_PERSON))} %s &"
INTERACTIVE_SECONDS = 30


def assert_signed_in_as(token, login, client_id):
    claims = token.id_token_claims
    assert claims.get("preferred_username") == login
    assert claims.get("aud") == client_id
    assert claims.get("tid") == TENANT_ID


def test_device_code_flow(sandbox, make_app, make_person):
    app = make_app(FULL_APP)
    verification_uri, final_page, token = token_by_device_code(app, make_person(MEGAN), FULL_SCOPES)
    assert verification_uri.startswith(sandbox.base_url)
    assert final_page, "the person never reached the device login's final page"
    assert token.token_source == "identity_provider"
    assert_signed_in_as(token, MEGAN, FULL_APP)


@pytest.mark.parametrize("response_mode, method", [("query", "GET"), ("form_post", "POST")])
def test_auth_code_flow(response_mode, method, make_app, make_person):
    app = make_app(FULL_APP)
    flow, delivery = authorization_response(app, make_person(ADELE), FULL_SCOPES, response_mode)
    response = delivery.auth_response()
    # Plain names and booleans only in the asserts: pytest would print a URL or dict holding the code.
    parameters, to_redirect_uri = set(response), same_endpoint(delivery.url, REDIRECT_URI)
    # query: a 302 whose Location carries code and state; form_post: an HTML form posting them.
    assert delivery.method == method, f"{delivery!r}: {describe_error(response)}"
    assert to_redirect_uri, delivery
    assert {"code", "state"} <= parameters, f"{delivery!r}: {describe_error(response)}"
    # MSAL checks the state, redeems the code with its PKCE verifier and checks the ID token's nonce.
    token = issued(app.acquire_token_by_auth_code_flow(flow, response))
    assert_signed_in_as(token, ADELE, FULL_APP)


def _read_report(path):
    """What browser_person.py wrote; it writes after the listener answered, so allow it a moment."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        time.sleep(0.1)
    return {"error": "browser_person.py wrote no report"}


def test_interactive_sign_in_through_msal_loopback_listener(make_app, tmp_path, monkeypatch):
    report = tmp_path / "browser-person.json"
    monkeypatch.setenv("BROWSER", BROWSER_COMMAND)
    monkeypatch.setenv("CALCONNECT_PERSON_LOGIN", ADELE)
    monkeypatch.setenv("CALCONNECT_PERSON_REPORT", str(report))
    app = make_app(FULL_APP)
    try:
        result = app.acquire_token_interactive(FULL_SCOPES, timeout=INTERACTIVE_SECONDS)
    except BrowserInteractionTimeoutError:
        result = None  # reported below, with what the person saw, outside MSAL's traceback
    if result is None:
        seen = _read_report(report)
        pytest.fail(f"MSAL's listener got no usable answer in {INTERACTIVE_SECONDS} s; the person saw {seen}")
    token = issued(result)
    assert_signed_in_as(token, ADELE, FULL_APP)
    outcome = _read_report(report)
    # MSAL's listener accepts only form_post (oauth2cli/authcode.py rejects a GET with parameters).
    assert outcome.get("method") == "POST", outcome
    assert outcome.get("listener_status") == 200, outcome
