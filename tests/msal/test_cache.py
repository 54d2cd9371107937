"""MSAL's token cache over sandbox sign-ins: silent answers, forced refresh, the account's identity."""

import pytest

from demo_tenant import ADELE, FULL_APP, FULL_SCOPES, TENANT_ID
from flows import token_by_auth_code
from graph_api import Graph
from tokens import issued


@pytest.fixture
def signed_in(make_app, make_person):
    """An app whose cache holds one sign-in of Adele, the tokens it got, and the cache's one account."""
    app = make_app(FULL_APP)
    first = token_by_auth_code(app, make_person(ADELE), FULL_SCOPES)
    accounts = app.get_accounts()
    assert len(accounts) == 1, [account.get("username") for account in accounts]
    return app, first, accounts[0]


def test_silent_answers_from_the_cache(signed_in):
    app, first, account = signed_in
    cached = issued(app.acquire_token_silent(FULL_SCOPES, account=account))
    assert cached.token_source == "cache"
    assert cached.access_fingerprint == first.access_fingerprint


def test_force_refresh_redeems_the_refresh_token_for_a_new_access_token(sandbox, signed_in):
    app, first, account = signed_in
    assert first.has_refresh_token, "MSAL asks for offline_access, so the sign-in must bring a refresh token"
    refreshed = issued(app.acquire_token_silent(FULL_SCOPES, account=account, force_refresh=True))
    assert refreshed.token_source == "identity_provider"
    assert refreshed.access_fingerprint != first.access_fingerprint
    assert {"User.Read", "Calendars.ReadWrite"} <= refreshed.scopes
    assert Graph(sandbox, refreshed).get("me").status_code == 200


def test_account_home_account_id_is_oid_dot_tenant(signed_in):
    # MSAL builds home_account_id from the token response's client_info (uid.utid), which it requests
    # with client_info=1; without client_info it falls back to the ID token's `sub` (token_cache.py).
    _, first, account = signed_in
    oid = first.id_token_claims.get("oid")
    assert oid, "the ID token of a sign-in with the profile scope carries oid"
    assert account["home_account_id"] == f"{oid}.{TENANT_ID}"
    assert account["local_account_id"] == oid
    assert account["username"] == ADELE
