"""WeCom error codes and the error bodies WeCom answers with.

The simulator must fail exactly the way WeCom fails, because the client's retry and token-refresh logic keys on errcode.
"""
from __future__ import annotations

import secrets
import time

# errcode -> the English errmsg prefix WeCom uses
# (real answers read "<text>, hint: [...], from ip: ..., more info at ...").
ERRMSG: dict[int, str] = {
    -1: "system busy",
    40001: "invalid credential",
    40002: "invalid grant_type",
    40003: "invalid userid",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40056: "invalid agentid",
    40008: "invalid message type",
    40058: "invalid parameter",
    40078: "invalid auth_code",
    40080: "invalid suite_secret",
    40082: "invalid suite_access_token",
    40083: "invalid suite_id",
    40084: "invalid permanent_code",
    40085: "invalid suite_ticket",
    40094: "invalid url",
    40096: "invalid external userid",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41008: "missing code",
    41009: "missing userid",
    41021: "suite_id missing",
    41022: "suite_access_token missing",
    41023: "suite_ticket missing",
    41025: "permanent_code missing",
    41035: "missing external userid",
    42001: "access_token expired",
    42009: "suite_access_token expired",
    43004: "require subscribe",
    44004: "empty content",
    46004: "user no exist",
    45009: "api freq out of limit",
    47001: "data format error",
    48002: "api forbidden",
    50100: "invalid cursor",
    60011: "no privilege to access/modify contact/party/agent",
    60103: "mobile invalid",
    60105: "email invalid",
    60111: "userid not found",
    81013: "user & party & tag all invalid",
    84061: "not external contact",
}


class WeComError(Exception):
    """Raised by a handler to answer with a WeCom errcode instead of a result."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(f"{errcode} {detail}".strip())
        self.errcode = errcode
        self.detail = detail


def error_body(errcode: int, client_ip: str = "127.0.0.1", detail: str = "") -> dict:
    """Build the JSON body WeCom sends for an error, including its hint/ip/more-info suffix."""
    text = ERRMSG.get(errcode, "error")
    if detail:
        text = f"{text}: {detail}"
    hint = f"{int(time.time())}_{secrets.token_hex(16)}"
    return {
        "errcode": errcode,
        "errmsg": f"{text}, hint: [{hint}], from ip: {client_ip}, "
        f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}",
    }


def wechat_error_body(errcode: int) -> dict:
    """The error body of api.weixin.qq.com (official accounts), which carries an rid instead of a hint."""
    return {"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')} rid: {secrets.token_hex(12)}"}
