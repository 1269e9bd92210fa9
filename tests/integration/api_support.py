"""JSON calls through Chalice's test client, for every integration test: one copy of each helper, not one per file."""
from __future__ import annotations

import json


def body(reply) -> dict:
    """The answer's JSON body ({} for an empty one)."""
    return json.loads(reply.body) if reply.body else {}


def error_code(reply) -> str | None:
    """The refusal's `error.code`; None for an answer that is no refusal."""
    return body(reply).get("error", {}).get("code")


def post_json(client, path: str, payload: dict, headers: dict | None = None):
    """POST `payload` as JSON, without a session unless `headers` bring one."""
    return client.http.post(path, headers={"Content-Type": "application/json", **(headers or {})},
                            body=json.dumps(payload))


def session_headers(token: str) -> dict:
    """The headers of a JSON request made with the session `token`."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def bearer_of(reply) -> dict:
    """The session headers of a sign-in's answer (its body carries the token)."""
    return session_headers(body(reply)["token"])


class Api:
    """The routes as one caller (their session headers) sees them."""

    def __init__(self, client, headers: dict) -> None:
        self.client, self.headers = client, headers

    def get(self, path: str, **headers):
        return self.client.http.get(path, headers={**self.headers, **headers})

    def post(self, path: str, payload: dict | None = None):
        return self.client.http.post(path, headers=self.headers, body=json.dumps(payload or {}))

    def put(self, path: str, payload: dict):
        return self.client.http.put(path, headers=self.headers, body=json.dumps(payload))

    def patch(self, path: str, payload: dict):
        return self.client.http.patch(path, headers=self.headers, body=json.dumps(payload))

    def delete(self, path: str):
        return self.client.http.delete(path, headers=self.headers)
