"""Signed, expiring tokens: the token in a WeChat-friend invitation link, the WeChat identity its accept page proved
through the official account's OAuth, and the candidate a search for a member of another organisation hands back (so
an invitation can only be sent to someone a search actually found).

A token is `<keyId>.<payload>.<signature>`: the payload is base64url JSON of the claims, among them `p` (the purpose,
so a token minted for one use is refused for another) and `e` (expiry, epoch seconds); the signature is
HMAC-SHA256 over `<keyId>.<payload>` with the deployment's signing key (Secrets Manager, created on first use).
The tenant a token belongs to is a signed claim, so a token can never be replayed against another tenant, and
nothing about the token needs storing: the invitation item holds the state (single use), the token the proof.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re

from chalicelib.core import clock, config
from chalicelib.store import secrets

WECHAT_LINK = "wx"
CANDIDATE = "cand"
WECHAT_IDENTITY = "wxid"  # the WeChat identity an invitation's OAuth round trip proved, held by the accept page
_KEY_ID = re.compile(r"^[a-z0-9]{1,16}$")
MAX_TOKEN = 2048


class InvalidToken(Exception):
    """Malformed, forged, tampered with, signed with an unknown key, or minted for another purpose."""


class ExpiredToken(Exception):
    """Genuine, but past its expiry; `claims` are the verified claims."""

    def __init__(self, claims: dict) -> None:
        super().__init__("token expired")
        self.claims = claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, signed: str) -> str:
    return _b64(hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest())


def encode(purpose: str, claims: dict, expires_at: int, key_id: str, key: bytes) -> str:
    """A token carrying `claims` for `purpose` until `expires_at` (epoch seconds)."""
    payload = _b64(json.dumps({**claims, "p": purpose, "e": int(expires_at)}, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8"))
    signed = f"{key_id}.{payload}"
    return f"{signed}.{_mac(key, signed)}"


def decode(token: str, purpose: str, keys: dict[str, bytes], now: float) -> dict:
    """The claims of a genuine token for `purpose`; InvalidToken or ExpiredToken otherwise.

    The signature is checked (in constant time) before anything in the payload is believed, and the expiry only
    after that, so a forged token is never reported as merely expired.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not token.isascii() or token.count(".") != 2:
        raise InvalidToken("malformed")
    key_id, payload, signature = token.split(".")
    key = keys.get(key_id) if _KEY_ID.match(key_id) else None
    if key is None:
        raise InvalidToken("unknown key")
    if not hmac.compare_digest(_mac(key, f"{key_id}.{payload}"), signature):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_unb64(payload))
    except (ValueError, binascii.Error) as err:
        raise InvalidToken("bad payload") from err
    if not isinstance(claims, dict) or claims.get("p") != purpose or not isinstance(claims.get("e"), int):
        raise InvalidToken("wrong purpose")
    if claims["e"] <= now:
        raise ExpiredToken(claims)
    return claims


def _keys() -> tuple[str, dict[str, bytes]]:
    stored = secrets.signing_keys(config.invitation_secret_id())
    return stored["current"], {key_id: base64.b64decode(value) for key_id, value in stored["keys"].items()}


def sign(purpose: str, claims: dict, expires_at: int) -> str:
    """A token signed with the deployment's current key."""
    key_id, keys = _keys()
    return encode(purpose, claims, expires_at, key_id, keys[key_id])


def verify(token: str, purpose: str) -> dict:
    """The claims of a genuine, unexpired token for `purpose` (InvalidToken / ExpiredToken otherwise)."""
    _, keys = _keys()
    return decode(token, purpose, keys, clock.now())
