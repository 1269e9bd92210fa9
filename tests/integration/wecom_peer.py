"""WeCom's side of a callback, played by wechatpy (an independent implementation) for tests."""
from __future__ import annotations

import time
import uuid
from urllib.parse import urlencode

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto


def event_xml(**fields) -> str:
    """A callback document in WeCom's shape: strings in CDATA, numbers bare."""
    lines = ["<xml>"]
    for name, value in fields.items():
        lines.append(f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}><![CDATA[{value}]]></{name}>")
    return "\n".join(lines + ["</xml>"])


def customer_event(corp_id: str, change_type: str, user_id: str, external_user_id: str, create_time: int | None = None) -> str:
    return event_xml(
        ToUserName=corp_id, FromUserName="sys", CreateTime=create_time or int(time.time()), MsgType="event",
        Event="change_external_contact", ChangeType=change_type, UserID=user_id, ExternalUserID=external_user_id,
    )


def signed_post(token: str, aes_key: str, receive_id: str, plaintext: str, *, to_user: str | None = None,
                agent_id: str = "1000002", timestamp: int | None = None) -> tuple[str, bytes]:
    """The query string and body WeCom POSTs: the encrypted document in an envelope, signed in the query."""
    timestamp = timestamp or int(time.time())
    nonce = uuid.uuid4().hex[:10]
    reply = xmltodict.parse(WeChatCrypto(token, aes_key, receive_id).encrypt_message(plaintext, nonce, timestamp))["xml"]
    body = (
        f"<xml><ToUserName><![CDATA[{to_user or receive_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{reply['Encrypt']}]]></Encrypt><AgentID><![CDATA[{agent_id}]]></AgentID></xml>"
    )
    query = urlencode({"msg_signature": reply["MsgSignature"], "timestamp": timestamp, "nonce": nonce})
    return query, body.encode()


def signed_echo(token: str, aes_key: str, receive_id: str, echo: str, timestamp: int | None = None) -> str:
    """The URL-verification query WeCom sends when an admin saves the callback URL."""
    timestamp = timestamp or int(time.time())
    nonce = uuid.uuid4().hex[:10]
    reply = xmltodict.parse(WeChatCrypto(token, aes_key, receive_id).encrypt_message(echo, nonce, timestamp))["xml"]
    return urlencode({"msg_signature": reply["MsgSignature"], "timestamp": timestamp, "nonce": nonce,
                      "echostr": reply["Encrypt"]})
