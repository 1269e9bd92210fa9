"""Tenant and suite secrets in AWS Secrets Manager, as one JSON document per secret id.

Values are cached for a few minutes per process: every callback needs the tenant's token and EncodingAESKey, and a
Secrets Manager round trip on each would cost more than the rest of the callback path.
"""
from __future__ import annotations

import json
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
