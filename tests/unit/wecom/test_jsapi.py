"""The JS-SDK signature: WeCom's published example, and the rules a page's URL follows before it is signed."""
from __future__ import annotations

import hashlib

import pytest

from chalicelib.wecom.jsapi import signature, signed_url

# WeCom's documentation (JS-SDK 使用权限签名算法) signs this example; its answer is the expected signature.
DOC_TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
DOC_NONCE, DOC_TIMESTAMP, DOC_URL = "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value"
DOC_SIGNATURE = "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_the_documented_example_signs_to_the_documented_signature():
    assert signature(DOC_TICKET, DOC_NONCE, DOC_TIMESTAMP, DOC_URL) == DOC_SIGNATURE
    assert signature(DOC_TICKET, DOC_NONCE, str(DOC_TIMESTAMP), DOC_URL) == DOC_SIGNATURE


def test_the_fragment_is_not_signed_and_the_query_is():
    assert signature(DOC_TICKET, DOC_NONCE, DOC_TIMESTAMP, DOC_URL + "#/chat") == DOC_SIGNATURE
    assert signature(DOC_TICKET, DOC_NONCE, DOC_TIMESTAMP, DOC_URL + "&x=1") != DOC_SIGNATURE


@pytest.mark.parametrize("url, page", [
    ("https://yq.test/directory/toolbar?tenantKey=t1#/send", "https://yq.test/directory/toolbar?tenantKey=t1"),
    ("https://yq.test/directory/toolbar", "https://yq.test/directory/toolbar"),
    ("https://yq.test/a?b=%23c#", "https://yq.test/a?b=%23c"),
])
def test_signed_url_drops_only_the_fragment(url, page):
    assert signed_url(url) == page


def test_each_part_of_the_string_changes_the_signature():
    base = ("ticket", "nonce", 1700000000, "https://yq.test/p")
    plain = "jsapi_ticket=ticket&noncestr=nonce&timestamp=1700000000&url=https://yq.test/p"
    assert signature(*base) == hashlib.sha1(plain.encode()).hexdigest()
    variants = {signature(*base[:i], value, *base[i + 1:]) for i, value in enumerate(("t2", "n2", 1700000001,
                                                                                       "https://yq.test/q"))}
    assert len(variants) == 4 and signature(*base) not in variants
