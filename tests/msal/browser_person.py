#!/usr/bin/env python3
"""A browser for MSAL's acquire_token_interactive, named by $BROWSER: `browser_person.py AUTHORIZE_URL`.

It plays the person at the sandbox's pages (scripted_person.Person) and hands the answer to MSAL's own
loopback listener: a GET of the redirect (query) or a POST of the form's fields (form_post), as a real
browser would. Settings come from the environment the test gives MSAL:
CALCONNECT_PERSON_LOGIN (the account), CALCONNECT_PERSON_REPORT (a JSON file for the outcome) and
REQUESTS_CA_BUNDLE (the sandbox CA). The report holds no code or token: method, redacted URL, status.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripted_person import Person, redact  # after the sys.path line above


def deliver(authorize_url, login, ca_path):
    outcome = {}
    try:
        delivery = Person(ca_path, login).sign_in(authorize_url)
        outcome.update(method=delivery.method, url=redact(delivery.url))
        answer = delivery.send()
        # MSAL's default pages say "Authentication complete" or show error and error_description.
        outcome.update(listener_status=answer.status_code, listener_says=answer.text[:300])
    except Exception as error:  # reported to the test, which is waiting on MSAL
        outcome["error"] = f"{type(error).__name__}: {error}"
    return outcome


def write_report(path, outcome):
    # Write then rename, so the test never reads half a report.
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(outcome), encoding="utf-8")
    partial.replace(path)


def main(arguments):
    if len(arguments) != 2:
        print("usage: browser_person.py AUTHORIZE_URL", file=sys.stderr)
        return 2
    outcome = deliver(arguments[1], os.environ["CALCONNECT_PERSON_LOGIN"], os.environ["REQUESTS_CA_BUNDLE"])
    write_report(Path(os.environ["CALCONNECT_PERSON_REPORT"]), outcome)
    return 0 if outcome.get("listener_status") == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
