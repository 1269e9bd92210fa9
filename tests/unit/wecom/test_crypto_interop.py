"""Round trips with wechatpy's WeCom crypto, an independent implementation, in both directions.

wechatpy 1.8 ships it as ``wechatpy.enterprise.crypto`` (later releases renamed the package ``work``).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException

from chalicelib.wecom.crypto import WeComCrypto
from chalicelib.wecom.xmlparse import parse_xml

TOKEN = "yunqiaoToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORP_ID = "ww2fd1a1b1c1d1e1f1"
NONCE, TS = "1372623149", "1409659813"

MESSAGES = [
    "hello",
    "",
    "我是中文abcd123",
    "<xml><ToUserName><![CDATA[ww2fd1a1b1c1d1e1f1]]></ToUserName><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
    "<UserID><![CDATA[张三]]></UserID><ExternalUserID><![CDATA[wmAbc]]></ExternalUserID></xml>",
    "emoji 😀 and 𠜎 (four-byte UTF-8) and é",
    "x" * 4096,
]

KEY_CHARS = string.ascii_letters + string.digits + "+/"
aes_keys = st.text(alphabet=KEY_CHARS, min_size=43, max_size=43)
receive_ids = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=40)


def envelope(encrypt: str) -> str:
    return f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"


@pytest.mark.parametrize("message", MESSAGES)
def test_wechatpy_encrypts_we_decrypt(message):
    theirs = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    reply = parse_xml(theirs.encrypt_message(message, NONCE, TS))
    ours = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    result = ours.decrypt(reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"], reply["Encrypt"])
    assert result.message == message
    assert result.receive_id == CORP_ID


@pytest.mark.parametrize("message", MESSAGES)
def test_we_encrypt_wechatpy_decrypts(message):
    enc = WeComCrypto(TOKEN, AES_KEY, CORP_ID).encrypt(message, NONCE, TS)
    theirs = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    assert theirs.decrypt_message(envelope(enc.encrypt), enc.signature, TS, NONCE) == message


def test_wechatpy_rejects_our_ciphertext_for_another_corp():
    enc = WeComCrypto(TOKEN, AES_KEY, CORP_ID).encrypt("hello", NONCE, TS)
    with pytest.raises(InvalidCorpIdException):
        WeChatCrypto(TOKEN, AES_KEY, "ww_other").decrypt_message(envelope(enc.encrypt), enc.signature, TS, NONCE)


@settings(max_examples=150, deadline=None)
@given(message=st.text(max_size=600), key=aes_keys, receive_id=receive_ids,
       prefix=st.one_of(st.none(), st.binary(min_size=16, max_size=16)))
def test_encrypt_then_decrypt_is_identity(message, key, receive_id, prefix):
    crypto = WeComCrypto(TOKEN, key, receive_id)
    enc = crypto.encrypt(message, NONCE, TS, prefix)
    result = crypto.decrypt(enc.signature, TS, NONCE, enc.encrypt)
    assert (result.message, result.receive_id) == (message, receive_id)


@settings(max_examples=100, deadline=None)
@given(message=st.text(max_size=400), key=aes_keys, receive_id=receive_ids)
def test_wechatpy_agrees_on_random_inputs(message, key, receive_id):
    ours = WeComCrypto(TOKEN, key, receive_id)
    theirs = WeChatCrypto(TOKEN, key, receive_id)
    enc = ours.encrypt(message, NONCE, TS)
    # check_signature is wechatpy's URL-verification path: no XML around the message, so any text goes.
    assert theirs.check_signature(enc.signature, TS, NONCE, enc.encrypt) == message
    reply = parse_xml(theirs.encrypt_message(message, NONCE, TS))
    assert ours.decrypt(reply["MsgSignature"], TS, NONCE, reply["Encrypt"]).message == message


@settings(max_examples=100, deadline=None)
@given(timestamp=st.text(alphabet=string.digits, min_size=1, max_size=12),
       nonce=st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=32),
       encrypt=st.text(alphabet=KEY_CHARS + "=", min_size=1, max_size=200))
def test_signature_matches_wechatpy(timestamp, nonce, encrypt):
    assert WeComCrypto(TOKEN, AES_KEY).signature(timestamp, nonce, encrypt) == \
        _get_signature(TOKEN, timestamp, nonce, encrypt)
