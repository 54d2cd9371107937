"""Calls to the sandbox's Graph with MSAL's tokens, and validation against the Graph JSON Schema.

Definitions are picked the way crates/calconnect-sandbox/tests/sandbox/graph.rs picks them: the schema
document keeps its `$defs`, and its root becomes either a `$ref` to one definition or, for collections,
an object whose required `value` is an array of that definition.
"""

import functools
import json
from pathlib import Path

import jsonschema
import requests

from demo_tenant import REPO

# Beside the repository as the CI lays it out (the Rust test's first choice), else this machine's copy.
_SCHEMA_CANDIDATES = [
    REPO.parent / "shared" / "reference" / "graph-schema" / "graph-subset.schema.json",
    Path("/work/shared/reference/graph-schema/graph-subset.schema.json"),
]
TIMEOUT_SECONDS = 30


@functools.lru_cache(maxsize=1)
def _schema_document():
    """The schema, checked once against its meta-schema (a broken schema would accept anything)."""
    for candidate in _SCHEMA_CANDIDATES:
        if candidate.is_file():
            document = json.loads(candidate.read_text(encoding="utf-8"))
            jsonschema.validators.validator_for(document).check_schema(document)
            return document
    raise FileNotFoundError(f"graph-subset.schema.json not found in {[str(c) for c in _SCHEMA_CANDIDATES]}")


@functools.lru_cache(maxsize=None)
def validator(definition, collection=False):
    """A validator for one `$defs` entry, or for a collection page (`{"value": [definition, ...]}`)."""
    schema = dict(_schema_document())  # only root keys change; `$defs` is shared, never modified
    if definition not in schema["$defs"]:
        raise KeyError(f"the Graph schema has no definition {definition!r}")
    reference = {"$ref": f"#/$defs/{definition}"}
    root = (
        {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "array", "items": reference}},
        }
        if collection
        else reference
    )
    schema.update(root)
    schema.pop("oneOf", None)
    return jsonschema.validators.validator_for(schema)(schema)


def schema_errors(definition, instance, collection=False):
    """Every violation, as `message at /path` lines (empty when the instance is valid)."""
    errors = validator(definition, collection).iter_errors(instance)
    return [f"{error.message} at /{'/'.join(map(str, error.absolute_path))}" for error in errors]


class Graph:
    """Graph under the sandbox's `/v1.0/`, authenticated with one MSAL result's access token."""

    def __init__(self, sandbox, issued):
        self.root = sandbox.url("v1.0/")
        self._authorization = {"Authorization": f"Bearer {issued.bearer}"}

    def __repr__(self):
        return f"Graph({self.root})"

    def url(self, path):
        return self.root + path.lstrip("/")

    def get(self, path_or_url, **params):
        url = path_or_url if path_or_url.startswith("https://") else self.url(path_or_url)
        return requests.get(url, headers=self._authorization, params=params or None, timeout=TIMEOUT_SECONDS)

    def post(self, path, body):
        return requests.post(self.url(path), headers=self._authorization, json=body, timeout=TIMEOUT_SECONDS)

    def pages(self, path, **params):
        """Every page of a collection, following absolute `@odata.nextLink`s until there is none."""
        response = self.get(path, **params)
        yield response
        while response.status_code == 200 and "@odata.nextLink" in response.json():
            response = self.get(response.json()["@odata.nextLink"])
            yield response
