"""Issuing, checking and ending sessions (internal members and external contacts alike).

A token is `yq1.<tenantKey>.<secret>` with 256 random bits of secret. Checking one is a single consistent GetItem
keyed by the tenant and the secret's hash; whatever is wrong with a token (malformed, unknown, expired, revoked)
the caller learns only that it is not valid, so a guesser learns nothing about which part failed.
"""
from __future__ import annotations

import hashlib
import secrets as token_bytes
from dataclasses import dataclass

from chalicelib.core import clock, config
from chalicelib.store import sessions as store
from chalicelib.store.sessions import CONTACT, MEMBER

PREFIX = "yq1"
__all__ = ["CONTACT", "MEMBER", "Issued", "SessionInfo", "bearer_token", "issue", "resolve", "revoke", "revoke_all"]


@dataclass(frozen=True)
class Issued:
    token: str
    session_id: str
    expires_at: int


@dataclass(frozen=True)
class SessionInfo:
    tenant_key: str
    session_id: str
    kind: str
    subject: str
    method: str
    expires_at: int


def _session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or len(parts[2]) < 32 or not parts[2].isascii():
        return None
    return parts[1], parts[2]


def issue(tenant_key: str, kind: str, subject: str, method: str) -> Issued:
    """A new session for `subject` (a userid or a contactId) in the tenant, expiring after the kind's lifetime."""
    secret = token_bytes.token_urlsafe(32)
    session_id = _session_id(secret)
    expires_at = int(clock.now()) + config.session_seconds(kind)
    store.put(
        store.Session(
            tenant_key,
            session_id,
            kind=kind,
            subject=subject,
            subject_key=store.subject_key(tenant_key, kind, subject),
            method=method,
            expires_at=expires_at,
        )
    )
    return Issued(f"{PREFIX}.{tenant_key}.{secret}", session_id, expires_at)


def bearer_token(headers) -> str:
    """The token of an `Authorization: Bearer …` header ('' without one); headers of Chalice or a plain dict."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def resolve(token: str) -> SessionInfo | None:
    """The live session a token stands for, or None."""
    parts = _split(token)
    if parts is None:
        return None
    tenant_key, secret = parts
    item = store.get(tenant_key, _session_id(secret))
    if item is None or item.revoked_at is not None or item.expires_at <= clock.now():
        return None
    return SessionInfo(tenant_key, item.session_id, item.kind, item.subject, item.method, int(item.expires_at))


def revoke(session: SessionInfo) -> None:
    store.revoke(session.tenant_key, session.session_id)


def revoke_all(tenant_key: str, kind: str, subject: str, keep_session_id: str | None = None) -> int:
    """End every session of one person (password changed, account disabled), except possibly the current one."""
    ended = 0
    for session_id in store.session_ids_of(tenant_key, kind, subject):
        if session_id != keep_session_id and store.revoke(tenant_key, session_id):
            ended += 1
    return ended
