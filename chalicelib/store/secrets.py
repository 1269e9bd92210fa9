"""Tenant and suite secrets in AWS Secrets Manager, as one JSON document per secret id.

Values are cached for a few minutes per process: every callback needs the tenant's token and EncodingAESKey, and a
Secrets Manager round trip on each would cost more than the rest of the callback path.
"""
from __future__ import annotations

import base64
import json
import os
import time

from chalicelib.core.aws import client

CACHE_SECONDS = 300
_cache: dict[str, tuple[float, dict]] = {}


def get(secret_id: str) -> dict:
    cached = _cache.get(secret_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    value = json.loads(client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    _cache[secret_id] = (time.monotonic() + CACHE_SECONDS, value)
    return value


def put(secret_id: str, value: dict) -> None:
    """Create the secret or replace its value."""
    sm = client("secretsmanager")
    body = json.dumps(value, ensure_ascii=False)
    try:
        sm.put_secret_value(SecretId=secret_id, SecretString=body)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=secret_id, SecretString=body)
    _cache.pop(secret_id, None)


def merge(secret_id: str, changes: dict) -> dict:
    """Change some fields of a secret and keep the others (a reset permanent code keeps the callback keys)."""
    try:
        current = dict(get(secret_id))
    except client("secretsmanager").exceptions.ResourceNotFoundException:
        current = {}
    current.update(changes)
    put(secret_id, current)
    return current


def signing_keys(secret_id: str) -> dict:
    """The deployment's signing keys, `{"current": keyId, "keys": {keyId: base64 key}}`, created on first use
    (invitation tokens and page cursors are signed with them).

    Created with CreateSecret, never PutSecretValue: two instances racing to create it must not overwrite each other
    (links signed with the loser's key would stop working), so the loser reads the winner's key instead. Keeping
    older keys under `keys` lets an operator rotate `current` without breaking links already handed out.
    """
    manager = client("secretsmanager")
    try:
        return get(secret_id)
    except manager.exceptions.ResourceNotFoundException:
        pass
    value = {"current": "k1", "keys": {"k1": base64.b64encode(os.urandom(32)).decode("ascii")}}
    try:
        manager.create_secret(Name=secret_id, SecretString=json.dumps(value))
    except manager.exceptions.ResourceExistsException:
        pass
    return get(secret_id)
