"""The demo tenant's fixed identifiers, read from the sandbox's own `demo.rs`.

Reading them from the Rust source (rather than copying them here) keeps one definition: if the
sandbox renames a client id, these tests follow instead of silently testing a stale value.
"""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_RS = REPO / "crates" / "calconnect-sandbox" / "src" / "demo.rs"

_CONSTANT = re.compile(r'pub const (\w+): &str = "([^"]*)";')


def _constants():
    return dict(_CONSTANT.findall(DEMO_RS.read_text(encoding="utf-8")))


_DEMO = _constants()

TENANT_ID = _DEMO["TENANT_ID"]
FULL_APP = _DEMO["FULL_APP_CLIENT_ID"]
FREEBUSY_APP = _DEMO["FREEBUSY_APP_CLIENT_ID"]
ADELE = _DEMO["ADELE"]
MEGAN = _DEMO["MEGAN"]

# What each app asks for (its registered delegated permissions minus the ones MSAL adds itself:
# MSAL refuses openid/profile/offline_access in `scopes` and always sends them).
FULL_SCOPES = ["User.Read", "Calendars.ReadWrite"]
FREEBUSY_SCOPES = ["Calendars.ReadBasic", "User.Read"]
