"""Opaque page cursors, one codec for every list: a JSON payload, base64url, sealed with an HMAC.

A cursor is only a position, but it comes back as input, so it must be one of ours. It is
`<payload>.<mac>`, the MAC (HMAC-SHA256, 16 bytes) taken over the list's *scope* and the payload with a key derived
from the deployment's signing key (Secrets Manager, `config.invitation_secret_id()`, created on first use and shared
with the invitation tokens; any key of the set verifies, so rotating `current` ends no list midway). The scope names
the partition the list reads (a tenant, a contact), so a cursor handed out in one partition is refused in another;
lists whose cursor carries DynamoDB's LastEvaluatedKey are also checked key by key (`check_key`): the hash key must be
exactly the one the request is entitled to. Anything else — malformed, forged, altered, too long, another list's or
another partition's — is a 400 `invalid_cursor`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from chalicelib.core import config
from chalicelib.core.errors import BadRequest
from chalicelib.store import secrets

MAX_CURSOR = 2048
MAC_BYTES = 16
_DERIVATION = b"yunqiao page cursor v1"


def invalid() -> BadRequest:
    return BadRequest("the cursor is not one this list gave out", code="invalid_cursor")


def _keys() -> list[bytes]:
    """The cursor keys, current first: one derived from each of the deployment's signing keys."""
    stored = secrets.signing_keys(config.invitation_secret_id())
    ordered = [stored["current"], *sorted(set(stored["keys"]) - {stored["current"]})]
    return [hmac.new(base64.b64decode(stored["keys"][key_id]), _DERIVATION, hashlib.sha256).digest()
            for key_id in ordered]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(key: bytes, scope: str, body: str) -> str:
    return _b64(hmac.new(key, f"{scope}\n{body}".encode("utf-8"), hashlib.sha256).digest()[:MAC_BYTES])


def seal(payload: dict, scope: str) -> str:
    """The cursor for `payload` in `scope`."""
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return f"{body}.{_mac(_keys()[0], scope, body)}"


def unseal(cursor: str | None, scope: str) -> dict | None:
    """The payload of a cursor this deployment sealed for `scope` (None for no cursor); 400 otherwise. The MAC is
    checked, in constant time, before anything in the payload is believed."""
    if not cursor:
        return None
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR or not cursor.isascii() or cursor.count(".") != 1:
        raise invalid()
    body, mac = cursor.split(".")
    if not any(hmac.compare_digest(_mac(key, scope, body), mac) for key in _keys()):
        raise invalid()
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid() from None
    if not isinstance(payload, dict):
        raise invalid()
    return payload


# --- cursors holding DynamoDB's LastEvaluatedKey ------------------------------------------------------------------
def encode(last_evaluated_key: dict | None, extra: dict | None = None, *, scope: str = "key") -> str | None:
    """The cursor continuing after `last_evaluated_key` (None at the end), with `extra` fields of the list's own."""
    if last_evaluated_key is None:
        return None
    return seal({"k": last_evaluated_key, **(extra or {})}, scope)


def decode_payload(cursor: str | None, *, scope: str = "key") -> dict | None:
    """A key cursor's payload (None for no cursor); its key is checked by the caller with `check_key`."""
    payload = unseal(cursor, scope)
    if payload is not None and not isinstance(payload.get("k"), dict):
        raise invalid()
    return payload


def check_key(key: dict, fixed: dict[str, str], free: tuple[str, ...]) -> dict:
    """A LastEvaluatedKey whose `fixed` attributes hold exactly these values and whose `free` ones are strings."""
    if set(key) != set(fixed) | set(free):
        raise invalid()
    for name, value in key.items():
        if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str):
            raise invalid()
        if name in fixed and value["S"] != fixed[name]:
            raise invalid()
    return key


def decode(cursor: str | None, fixed: dict[str, str], free: tuple[str, ...], *, scope: str = "key") -> dict | None:
    """The ExclusiveStartKey of a key cursor for the partition `fixed` names (None for no cursor)."""
    payload = decode_payload(cursor, scope=scope)
    return None if payload is None else check_key(payload["k"], fixed, free)


# --- cursors holding sort-key positions ---------------------------------------------------------------------------
def encode_one(sort_key: str, *, scope: str) -> str:
    """The cursor continuing after one sort key."""
    return seal({"after": sort_key}, scope)


def decode_one(cursor: str | None, prefix: str, *, scope: str) -> str | None:
    """The sort key to continue after (it must start with `prefix`), or None for the first page."""
    payload = unseal(cursor, scope)
    if payload is None:
        return None
    after = payload.get("after")
    if not isinstance(after, str) or not after.startswith(prefix):
        raise invalid()
    return after


def encode_many(positions: dict[str, str], *, scope: str) -> str:
    """Positions in several per-kind streams (a list that merges them)."""
    return seal({"after": positions}, scope)


def decode_many(cursor: str | None, prefixes: dict[str, str], *, scope: str) -> dict[str, str]:
    """{kind: sort key to continue after} for the kinds this list reads (a kind not yet read is absent)."""
    payload = unseal(cursor, scope)
    if payload is None:
        return {}
    positions = payload.get("after")
    if not isinstance(positions, dict) or set(positions) - set(prefixes):
        raise invalid()
    for kind, after in positions.items():
        if not isinstance(after, str) or not after.startswith(prefixes[kind]):
            raise invalid()
    return positions
