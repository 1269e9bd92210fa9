"""Helpers shared by the directory's integration tests: JSON calls through the Chalice test client, and a small
directory (a dimension, an organisation, a department) made through the API."""
from __future__ import annotations

from urllib.parse import quote

from tests.integration import api_support
from tests.integration.api_support import body


class Api(api_support.Api):
    """The directory's routes as one member sees them, and the two writes most tests start with."""

    def node(self, kind: str, name: str, parent_id: str | None = None) -> dict:
        reply = self.post("/api/directory/nodes", {"kind": kind, "name": name, "parentId": parent_id})
        assert reply.status_code == 201, reply.body
        return body(reply)

    def contact(self, **fields) -> dict:
        reply = self.post("/api/directory/contacts", fields)
        assert reply.status_code == 201, reply.body
        return body(reply)


def path_id(node_id: str) -> str:
    """A node or contact id as a path segment (synced ids contain '#')."""
    return quote(node_id, safe="")


def front_list_ids(api: Api, **params) -> list[str]:
    """Every contactId of the caller's front list, following cursors."""
    found, cursor = [], None
    while True:
        query = "&".join(f"{key}={quote(str(value))}" for key, value in {**params, **({"cursor": cursor} if cursor else {})}.items())
        reply = api.get(f"/api/directory/contacts?{query}")
        assert reply.status_code == 200, reply.body
        page = body(reply)
        found += [c["contactId"] for group in page["groups"] for c in group["contacts"]]
        cursor = page["nextCursor"]
        if not cursor:
            return found
