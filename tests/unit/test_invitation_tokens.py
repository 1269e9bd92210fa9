"""Invitation tokens: genuine ones verify, anything forged, tampered with, expired or minted for another use does not;
and the exact-name normalisation the cross-organisation search relies on."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.invitations import tokens
from chalicelib.invitations.lookup import name_hash, normalise

KEY = b"k" * 32
KEYS = {"k1": KEY}
NOW = 1_750_000_000


def mint(claims=None, expires_at=NOW + 3600, purpose=tokens.WECHAT_LINK, key_id="k1", key=KEY):
    return tokens.encode(purpose, claims or {"t": "tnalpha01", "i": "wx0001"}, expires_at, key_id, key)


def test_a_genuine_token_verifies_and_carries_its_claims():
    claims = tokens.decode(mint(), tokens.WECHAT_LINK, KEYS, NOW)
    assert claims == {"t": "tnalpha01", "i": "wx0001", "p": tokens.WECHAT_LINK, "e": NOW + 3600}


def test_the_token_is_url_safe():
    token = mint({"t": "tnalpha01", "i": "wx0001", "n": "张三/+=?&"})
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_an_expired_token_is_told_apart_from_a_forged_one():
    token = mint(expires_at=NOW)
    with pytest.raises(tokens.ExpiredToken) as caught:
        tokens.decode(token, tokens.WECHAT_LINK, KEYS, NOW)
    assert caught.value.claims["i"] == "wx0001"
    assert tokens.decode(mint(expires_at=NOW + 1), tokens.WECHAT_LINK, KEYS, NOW)["i"] == "wx0001"


def test_an_expired_forgery_is_invalid_not_expired():
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(mint(expires_at=NOW - 10, key=b"x" * 32), tokens.WECHAT_LINK, KEYS, NOW)


def _tamper_payload(token: str, change: dict) -> str:
    key_id, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(change)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{key_id}.{forged}.{signature}"


@pytest.mark.parametrize("change", [{"t": "tnother01"}, {"i": "wx0002"}, {"e": NOW + 10**6}])
def test_a_tampered_payload_is_refused(change):
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(_tamper_payload(mint(), change), tokens.WECHAT_LINK, KEYS, NOW)


def test_a_tampered_signature_is_refused():
    token = mint()
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(flipped, tokens.WECHAT_LINK, KEYS, NOW)


def test_a_token_signed_with_another_key_is_refused():
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(mint(key=b"y" * 32), tokens.WECHAT_LINK, KEYS, NOW)


def test_an_unknown_or_malformed_key_id_is_refused():
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(mint(key_id="k9"), tokens.WECHAT_LINK, KEYS, NOW)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(mint(key_id="K#1"), tokens.WECHAT_LINK, {"K#1": KEY}, NOW)


def test_older_keys_still_verify_after_rotation():
    old = mint(key_id="k1")
    rotated = {"k1": KEY, "k2": b"z" * 32}
    assert tokens.decode(old, tokens.WECHAT_LINK, rotated, NOW)["i"] == "wx0001"
    assert tokens.decode(mint(key_id="k2", key=b"z" * 32), tokens.WECHAT_LINK, rotated, NOW)["i"] == "wx0001"


def test_a_token_minted_for_one_purpose_is_refused_for_another():
    candidate = mint(purpose=tokens.CANDIDATE)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(candidate, tokens.WECHAT_LINK, KEYS, NOW)
    assert tokens.decode(candidate, tokens.CANDIDATE, KEYS, NOW)["p"] == tokens.CANDIDATE


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c.d", "k1..", "k1.!!!.sig", None, 42,
                                     "k1." + "a" * 3000 + ".s", "k1.é.abc", "k1.abc.é"])
def test_garbage_is_invalid(garbage):
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(garbage, tokens.WECHAT_LINK, KEYS, NOW)


def test_names_match_exactly_after_normalisation_never_partially():
    assert normalise("  云桥演示科技 ") == normalise("云桥演示科技")
    assert normalise("ＡＣＭＥ  Ltd") == normalise("acme ltd")  # full-width, case, runs of spaces
    assert name_hash("Acme Ltd") == name_hash(" acme  LTD ")
    assert name_hash("Acme") != name_hash("Acme Ltd")
    assert name_hash("云桥") != name_hash("云桥演示科技")
