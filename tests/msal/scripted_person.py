"""A scripted person with a browser: reads the sandbox's real HTML pages and submits their forms.

It relies only on the field contract of the sandbox's pages (crates/calconnect-sandbox/src/identity/page.rs):
hidden inputs are posted back unchanged, `login` takes the account's email address, `otc` the device
code, and `decision` buttons offer `accept` / `cancel` / `return`. Whatever leaves the sandbox's origin
(a redirect, or a form posting elsewhere) is the answer for the app; the person hands it back as a
`Delivery` instead of sending it, so the caller decides who receives it.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import requests

# Account picker, consent, admin approval, plus slack for one unexpected page.
MAX_PAGES = 6
TIMEOUT_SECONDS = 30


class PersonStuck(AssertionError):
    """The person found no way forward (an error page, a form it cannot fill, too many pages)."""


@dataclass
class Form:
    action: str
    method: str
    hidden: list = field(default_factory=list)  # (name, value) posted back unchanged
    fields: set = field(default_factory=set)  # names of inputs the person fills in
    decisions: list = field(default_factory=list)  # values of the `decision` buttons


# Elements without an end tag: they must not open a text capture.
_VOID_TAGS = {"input", "meta", "br", "img", "link", "hr"}


class _Page(HTMLParser):
    """The forms of a page, the ids it marks elements with, and the text of its error and heading."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.ids = set()
        self.texts = {"error": "", "h1": ""}
        self._open = []  # per open element: the text it captures ("error", "h1") or None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self.forms.append(Form(action=attributes.get("action", ""), method=method))
        elif tag == "input" and self.forms:
            self._input(self.forms[-1], attributes)
        elif tag == "button" and self.forms and attributes.get("name") == "decision":
            self.forms[-1].decisions.append(attributes.get("value", ""))
        if tag not in _VOID_TAGS:
            capture = "error" if attributes.get("id") == "error" else "h1" if tag == "h1" else None
            self._open.append(capture)

    def handle_endtag(self, tag):
        if tag not in _VOID_TAGS and self._open:
            self._open.pop()

    def handle_data(self, data):
        for capture in filter(None, self._open):
            self.texts[capture] += data

    @staticmethod
    def _input(form, attributes):
        name = attributes.get("name")
        if not name:
            return
        if attributes.get("type", "text").lower() == "hidden":
            form.hidden.append((name, attributes.get("value", "")))
        else:
            form.fields.add(name)

    def describe(self):
        return self.texts["error"].strip() or self.texts["h1"].strip() or "a page without a form"


def redact(url):
    """A URL without query and fragment: authorization codes and states must not reach a log."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _origin(url):
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc.lower())


@dataclass
class Delivery:
    """What the sandbox hands back for the app: a redirect to follow (GET) or a form to post (POST)."""

    method: str
    url: str
    fields: dict = field(default_factory=dict)

    def auth_response(self):
        """The authorization response as MSAL's acquire_token_by_auth_code_flow takes it."""
        if self.method == "GET":
            return dict(parse_qsl(urlsplit(self.url).query))
        return dict(self.fields)

    def send(self, session=None):
        """Delivers it as a browser would; returns the receiver's response."""
        http = session or requests
        if self.method == "GET":
            return http.get(self.url, allow_redirects=False, timeout=TIMEOUT_SECONDS)
        return http.post(self.url, data=self.fields, allow_redirects=False, timeout=TIMEOUT_SECONDS)

    def __repr__(self):
        # Names only: values are authorization codes and states.
        names = sorted(self.auth_response())
        return f"Delivery({self.method} {redact(self.url)}, parameters={names})"


class Person:
    """One person at one browser. `ca_path` is the sandbox CA the browser trusts."""

    def __init__(self, ca_path, login):
        self.ca_path = str(ca_path)
        self.login = login
        self.session = requests.Session()

    def sign_in(self, authorize_url, decision="accept"):
        """Opens the authorize URL, picks the account, answers consent; returns the Delivery for the app."""
        sandbox = _origin(authorize_url)
        response = self._get(authorize_url)
        for _ in range(MAX_PAGES):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if _origin(location) != sandbox:
                    return Delivery("GET", location)
                response = self._get(location)
                continue
            form = self._form_to_fill(response)
            action = urljoin(response.url, form.action)
            if _origin(action) != sandbox:
                return Delivery(form.method.upper(), action, dict(form.hidden))
            response = self._submit(action, form, decision)
        raise PersonStuck(f"sign-in at {redact(authorize_url)} took more than {MAX_PAGES} pages")

    def enter_device_code(self, verification_uri, user_code, decision="accept"):
        """Types the code on /devicelogin, signs in, answers consent; returns the final page's heading."""
        response = self._get(verification_uri)
        for _ in range(MAX_PAGES):
            page = _Page(self._text(response))
            if "done" in page.ids:
                return page.texts["h1"].strip()
            form = self._form_to_fill(response, page)
            response = self._submit(urljoin(response.url, form.action), form, decision, user_code)
        raise PersonStuck(f"device sign-in at {redact(verification_uri)} took more than {MAX_PAGES} pages")

    def _form_to_fill(self, response, page=None):
        """The page's form; an error message beside the fields (or no form at all) leaves the person stuck."""
        page = page or _Page(self._text(response))
        if not page.forms or ("error" in page.ids and page.forms[0].fields):
            raise PersonStuck(f"{redact(response.url)} (HTTP {response.status_code}): {page.describe()}")
        return page.forms[0]

    def _submit(self, action, form, decision, user_code=None):
        data = list(form.hidden)
        if "login" in form.fields:
            data.append(("login", self.login))
        if "otc" in form.fields:
            data.append(("otc", user_code or ""))
        if form.decisions:
            data.append(("decision", decision if decision in form.decisions else form.decisions[0]))
        if form.method != "post":
            raise PersonStuck(f"the form at {redact(action)} is not posted: {form.method}")
        return self.session.post(
            action, data=data, allow_redirects=False, verify=self.ca_path, timeout=TIMEOUT_SECONDS
        )

    def _get(self, url):
        return self.session.get(url, allow_redirects=False, verify=self.ca_path, timeout=TIMEOUT_SECONDS)

    @staticmethod
    def _text(response):
        response.encoding = response.encoding or "utf-8"
        return response.text
