"""Session fixtures: one sandbox process for the suite, fresh MSAL apps and persons per test."""

import os

import msal
import pytest

import sandbox_process
from demo_tenant import TENANT_ID
from scripted_person import Person

# requests lets these override any `verify=`; MSAL uses requests, so they are how it trusts the sandbox.
_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    process, running = sandbox_process.start(tmp_path_factory.mktemp("sandbox"))
    saved = {name: os.environ.get(name) for name in _CA_VARIABLES}
    os.environ.update({name: str(running.ca_path) for name in _CA_VARIABLES})
    try:
        yield running
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        sandbox_process.stop(process)


@pytest.fixture
def make_app(sandbox):
    """`make_app(client_id)`: an MSAL public client of the demo tenant, with its own empty cache."""

    def make(client_id):
        # Exactly what an app pointed at a custom authority does; MSAL's logic stays untouched.
        return msal.PublicClientApplication(
            client_id,
            authority=sandbox.authority(TENANT_ID),
            validate_authority=False,
            instance_discovery=False,
        )

    return make


@pytest.fixture
def make_person(sandbox):
    """`make_person(login)`: a scripted person who signs in as `login` with a browser trusting the CA."""
    return lambda login: Person(sandbox.ca_path, login)
