"""Callback verify+decrypt throughput: chalicelib.wecom.crypto against wechatpy's WeCom crypto.

Every callback we receive is verified and decrypted on the request path, inside WeCom's 5-second window,
so ours must be at least as fast as the reference SDK (target: ratio ours/wechatpy >= 1.0).

Headline, like for like: both sides start from the same POST body (bytes, as it arrives over HTTP) and
the query parameters. Ours is parse_envelope (the hardened parser) + verify + decrypt; wechatpy's is
WeChatCrypto.decrypt_message(body, ...), which parses the envelope itself (xmltodict) before verifying
and decrypting.

Secondary, decrypt only: both sides start from the Encrypt string. Ours is WeComCrypto.decrypt; wechatpy's
is decrypt_message given a ready-parsed {"Encrypt": ...} dict, which it accepts and then skips its parse.

Each round times all four sides, in an order reversed every round so drift hits every side equally; a
ratio is taken within each round (the two sides of a pair ran seconds apart) and the median over the
rounds is reported.

Run: .venv/bin/python bench/bench_crypto.py [callbacks] [rounds]   (2000 callbacks, at least 7 rounds)
     .venv/bin/python bench/bench_crypto.py --smoke                (100 callbacks, 3 rounds: a second)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wechatpy.enterprise.crypto import WeChatCrypto  # noqa: E402

from chalicelib.wecom.crypto import WeComCrypto  # noqa: E402
from chalicelib.wecom.xmlparse import parse_envelope  # noqa: E402

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "ww5823bf96d3bd56c7"
ENVELOPE = ("<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            "<AgentID><![CDATA[1000002]]></AgentID></xml>")


def inner_xml(i: int) -> str:
    """An add_external_contact callback of about 600 bytes, the event customer sync lives on."""
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{1700000000 + i}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        "<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
        f"<UserID><![CDATA[zhangsan{i:05d}]]></UserID>"
        f"<ExternalUserID><![CDATA[wmAJ2GCAAAXtWyujaWJHDDGi0mAC{i:05d}]]></ExternalUserID>"
        "<State><![CDATA[yunqiao_invite_tnxabtf9g2]]></State>"
        "<WelcomeCode><![CDATA[bOb3bXvJ2KFlN1CHcD0yXz8W2jM8A1c_Ve2Ls0iSW7Y]]></WelcomeCode>"
        "<Source><![CDATA[]]></Source><Remark><![CDATA[华南区 · 重点客户]]></Remark>"
        "<AgentID>1000002</AgentID></xml>"
    )


TARGET = 1.0


def build_callbacks(n: int) -> list[dict]:
    ours = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    callbacks = []
    for i in range(n):
        nonce, timestamp = str(100000000 + i), str(1700000000 + i)
        enc = ours.encrypt(inner_xml(i), nonce, timestamp)
        callbacks.append({"signature": enc.signature, "timestamp": timestamp, "nonce": nonce,
                          "encrypt": enc.encrypt, "parsed": {"Encrypt": enc.encrypt},
                          "body": ENVELOPE.format(to=CORP_ID, encrypt=enc.encrypt).encode("utf-8")})
    return callbacks


def run_ours(callbacks: list[dict]) -> list[str]:
    """Like for like: hardened envelope parse + verify + decrypt, from the POST body."""
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    return [crypto.decrypt(c["signature"], c["timestamp"], c["nonce"], parse_envelope(c["body"]).encrypt).message
            for c in callbacks]


def run_wechatpy(callbacks: list[dict]) -> list[str]:
    """Like for like: decrypt_message parses the same POST body, then verifies and decrypts."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    return [crypto.decrypt_message(c["body"], c["signature"], c["timestamp"], c["nonce"]) for c in callbacks]


def run_ours_decrypt_only(callbacks: list[dict]) -> list[str]:
    """Verify + decrypt from the Encrypt string; no XML."""
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    return [crypto.decrypt(c["signature"], c["timestamp"], c["nonce"], c["encrypt"]).message for c in callbacks]


def run_wechatpy_decrypt_only(callbacks: list[dict]) -> list[str]:
    """Verify + decrypt from a ready-parsed envelope dict, which decrypt_message accepts without parsing."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    return [crypto.decrypt_message(c["parsed"], c["signature"], c["timestamp"], c["nonce"]) for c in callbacks]


SIDES: dict[str, Callable[[list[dict]], list[str]]] = {
    "ours": run_ours, "wechatpy": run_wechatpy,
    "ours decrypt-only": run_ours_decrypt_only, "wechatpy decrypt-only": run_wechatpy_decrypt_only,
}
PAIRS = {"like-for-like": ("ours", "wechatpy"), "decrypt-only": ("ours decrypt-only", "wechatpy decrypt-only")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("callbacks", type=int, nargs="?", default=2000)
    parser.add_argument("rounds", type=int, nargs="?", default=9)
    parser.add_argument("--smoke", action="store_true", help="100 callbacks, 3 rounds: does the bench still run")
    args = parser.parse_args()
    n, rounds = (100, 3) if args.smoke else (args.callbacks, max(7, args.rounds))
    print(f"building {n} encrypted callbacks ...", flush=True)
    callbacks = build_callbacks(n)
    size = sum(len(inner_xml(i).encode()) for i in range(n)) // n
    print(f"inner XML ~{size} bytes, Encrypt ~{len(callbacks[0]['encrypt'])} chars, "
          f"POST body ~{len(callbacks[0]['body'])} bytes", flush=True)

    expected = run_wechatpy(callbacks)
    for name, run in SIDES.items():
        if run(callbacks) != expected:
            print(f"FAIL: {name} decrypts differently from wechatpy")
            return 1
    print("all sides agree on every plaintext", flush=True)

    rates: dict[str, list[float]] = {name: [] for name in SIDES}
    ratios: dict[str, list[float]] = {pair: [] for pair in PAIRS}
    for r in range(rounds):
        order = list(SIDES) if r % 2 == 0 else list(reversed(SIDES))
        for name in order:
            start = time.perf_counter()
            SIDES[name](callbacks)
            rates[name].append(n / (time.perf_counter() - start))
        for pair, (ours, theirs) in PAIRS.items():
            ratios[pair].append(rates[ours][-1] / rates[theirs][-1])
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items())
              + " | " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in ratios.items()), flush=True)

    print()
    for name, values in rates.items():
        value = statistics.median(values)
        print(f"{name:>22}: median {value:,.0f} callbacks/s ({1e6 / value:.1f} us each)")
    ratio = statistics.median(ratios["like-for-like"])
    decrypt_ratio = statistics.median(ratios["decrypt-only"])
    print(f"ratio ours/wechatpy, like for like (POST body -> plaintext): {ratio:.2f} "
          f"(rounds {min(ratios['like-for-like']):.2f}..{max(ratios['like-for-like']):.2f})")
    print(f"ratio ours/wechatpy, decrypt only (Encrypt -> plaintext):    {decrypt_ratio:.2f} "
          f"(rounds {min(ratios['decrypt-only']):.2f}..{max(ratios['decrypt-only']):.2f})")
    verdict = "MEETS" if ratio >= TARGET else "MISSES"
    print(f"verdict: {verdict} the target ratio >= {TARGET:.1f} "
          f"(ours {ratio:.2f}x wechatpy like for like, median of {rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
