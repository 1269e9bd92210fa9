"""Access tokens as WeCom issues and checks them: per (corp, secret), with expiry, invalidation and rotation.

The client caches one token per (corp, secret) and shares it between processes; the rotation mode and invalidation
exist so tests can prove that cache survives a token being superseded behind its back.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass
class Token:
    """An issued token and what it may do."""

    token: str
    corpid: str  # the corp the token acts on (suite tokens: the suite_id)
    kind: str  # contacts | externalcontact | app | suite | suite_corp | corpgroup
    key: tuple  # the credential it was fetched with, e.g. (corpid, secret)
    apis: tuple[str, ...] | None  # allowed path prefixes; None = every API
    agentid: int | None
    expires_at: float
    invalidated: bool = False

    def allows(self, api: str) -> bool:
        return self.apis is None or any(api.startswith(prefix) for prefix in self.apis)

    def as_dict(self) -> dict:
        return {"token": self.token, "corpid": self.corpid, "kind": self.kind, "agentid": self.agentid,
                "expires_at": self.expires_at, "invalidated": self.invalidated}


class TokenStore:
    """Issues and checks tokens. Not thread-safe on its own: the server calls it under its state lock."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._current: dict[tuple, Token] = {}

    def issue(self, *, key: tuple, corpid: str, kind: str, apis: tuple[str, ...] | None, agentid: int | None,
              now: float, ttl: int, rotate: bool) -> Token:
        """Return the token for a credential: the live one (WeCom's rule) unless rotating, else a fresh one.

        A fresh token supersedes the previous one of the same credential, which then answers as invalidated.
        """
        current = self._current.get(key)
        if current and not rotate and not current.invalidated and current.expires_at > now:
            return current
        if current:
            current.invalidated = True
        token = Token(secrets.token_urlsafe(48), corpid, kind, key, apis, agentid, now + ttl)
        self._tokens[token.token] = token
        self._current[key] = token
        return token

    def lookup(self, token: str) -> Token | None:
        return self._tokens.get(token)

    def invalidate(self, *, corpid: str | None = None, token: str | None = None, kind: str | None = None) -> int:
        """Invalidate matching tokens (by token, corp and/or kind; nothing given = every token); returns the count."""
        count = 0
        for t in self._tokens.values():
            if t.invalidated or (token and t.token != token) or (corpid and t.corpid != corpid) \
                    or (kind and t.kind != kind):
                continue
            t.invalidated = True
            count += 1
        return count

    def live(self, now: float, corpid: str | None = None) -> list[Token]:
        return [t for t in self._tokens.values()
                if not t.invalidated and t.expires_at > now and (not corpid or t.corpid == corpid)]
