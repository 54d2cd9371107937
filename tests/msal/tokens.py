"""MSAL results as the tests compare them: claims, scopes and fingerprints, never the secrets themselves.

pytest prints the operands of a failing `assert`; an MSAL result dict holds access, refresh and ID tokens.
Tests therefore assert on an `Issued`, whose repr leaves the bearer token out.
"""

import hashlib
from dataclasses import dataclass, field

import pytest

# Fields of an MSAL error result that carry no secret (RFC 6749 §5.2 plus Entra's additions).
_ERROR_FIELDS = ("error", "error_description", "error_codes", "suberror", "correlation_id")


def fingerprint(secret):
    """A short digest that tells two tokens apart without revealing either."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def describe_error(result):
    if result is None:
        return "MSAL returned None (nothing usable in its cache)"
    return {name: result[name] for name in _ERROR_FIELDS if name in result} or f"fields {sorted(result)}"


@dataclass(frozen=True)
class Issued:
    scopes: frozenset  # the token response's `scope`, split
    token_source: str  # "identity_provider" or "cache", as MSAL reports it
    id_token_claims: dict
    access_fingerprint: str
    has_refresh_token: bool
    bearer: str = field(repr=False)


def issued(result):
    """The successful MSAL `result` as an `Issued`; a failure shows only the error fields."""
    __tracebackhide__ = True  # pytest would print this frame's argument: the whole result
    if not result or "access_token" not in result:
        pytest.fail(f"MSAL got no access token: {describe_error(result)}")
    return Issued(
        scopes=frozenset(result.get("scope", "").split()),
        token_source=result.get("token_source", ""),
        id_token_claims=dict(result.get("id_token_claims") or {}),
        access_fingerprint=fingerprint(result["access_token"]),
        has_refresh_token=bool(result.get("refresh_token")),
        bearer=result["access_token"],
    )
