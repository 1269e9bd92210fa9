"""An official account's pushed documents and its URL-check signature (pure: no network, no AWS)."""
from __future__ import annotations

import hashlib

from wechatpy.utils import WeChatSigner

from chalicelib.wecom.crypto import WeComCrypto
from chalicelib.wecom.events import FollowEvent, UnknownEvent, official_account_event
from chalicelib.wecom.xmlparse import parse_xml

KEY = "dEmOoAcAlLbAcKaEsKeY0123456789aBcDeFgHiJkLm"


def _doc(**fields) -> dict:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>" for k, v in fields.items())
    return parse_xml(f"<xml>{body}</xml>")


def test_a_follow_through_a_qr_code_carries_its_scene():
    event = official_account_event(_doc(ToUserName="gh_x", FromUserName="oA", CreateTime=1790000000, MsgType="event",
                                        Event="subscribe", EventKey="qrscene_expo", Ticket="t"))
    assert isinstance(event, FollowEvent)
    assert (event.openid, event.scene, event.follows, event.create_time, event.corp_id) == (
        "oA", "expo", True, 1790000000, "gh_x")


def test_scan_and_unfollow():
    scan = official_account_event(_doc(FromUserName="oB", CreateTime=1, MsgType="event", Event="SCAN", EventKey="7"))
    gone = official_account_event(_doc(FromUserName="oB", CreateTime=2, MsgType="event", Event="unsubscribe"))
    assert (scan.scene, scan.follows) == ("7", True)
    assert (gone.kind, gone.follows, gone.scene) == ("unsubscribe", False, "")
    assert scan.dedupe_key != gone.dedupe_key


def test_messages_and_other_events_are_unknown_not_refused():
    text = official_account_event(_doc(FromUserName="oC", CreateTime=1, MsgType="text", Content="你好"))
    click = official_account_event(_doc(FromUserName="oC", CreateTime=1, MsgType="event", Event="CLICK"))
    assert isinstance(text, UnknownEvent) and isinstance(click, UnknownEvent)


def test_the_url_check_signature_matches_wechatpys_and_nothing_else():
    signer = WeChatSigner()
    signer.add_data("Token1", "1790000000", "42")
    crypto = WeComCrypto("Token1", KEY, "wxappid")
    assert crypto.url_signature_matches(signer.signature, "1790000000", "42")
    assert signer.signature == hashlib.sha1("".join(sorted(["Token1", "1790000000", "42"])).encode()).hexdigest()
    assert not crypto.url_signature_matches(signer.signature, "1790000001", "42")
    assert not crypto.url_signature_matches("签名", "1790000000", "42")
    assert not WeComCrypto("Token2", KEY, "wxappid").url_signature_matches(signer.signature, "1790000000", "42")
