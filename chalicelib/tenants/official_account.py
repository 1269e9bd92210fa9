"""A tenant's WeChat official account: the glue between the tenant record and `chalicelib.wecom.official_account`.

The account's appid and template id are tenant settings (`officialAccountAppId`, `officialAccountTemplateId`); its
secret is `wechat_oa_secret` in the tenant's Secrets Manager secret. A tenant without them simply has no WeChat
sign-in and no template messages: external contacts then use the login form and see news on their home.
The account's own callbacks (follow, unfollow, scan: `/wechat/callback/{tenantKey}`) are signed and encrypted with
the token and EncodingAESKey set in the account's 服务器配置; they are `wechat_oa_token` and `wechat_oa_aes_key` in the
same secret, stored by ops (`python -m ops tenants official-account-callback`).
"""
from __future__ import annotations

import hashlib
import re
import threading
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from chalicelib.core import clock, config
from chalicelib.core.errors import BadRequest, NotFound, PermanentError, Unauthorized
from chalicelib.core.observability import logger
from chalicelib.store import secrets, wecom_state
from chalicelib.store.tenants import Tenant
from chalicelib.wecom import oauth
from chalicelib.wecom.http import RetryPolicy, Transport
from chalicelib.wecom.official_account import OfficialAccountClient
from chalicelib.wecom.client import official_account_oauth
from chalicelib.wecom.errors import WeComApiError

SECRET_KEY = "wechat_oa_secret"
CALLBACK_TOKEN_KEY, CALLBACK_AES_KEY = "wechat_oa_token", "wechat_oa_aes_key"
CALLBACK_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")  # what the account's 服务器配置 accepts as Token
AES_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")
CHINA = timezone(timedelta(hours=8))

_lock = threading.Lock()
_clients: dict[str, tuple[str, OfficialAccountClient]] = {}


@lru_cache(maxsize=None)
def _transport() -> Transport:
    """api.weixin.qq.com (or the simulator), with the same retry budget as WeCom calls."""
    return Transport(RetryPolicy(attempts=config.wecom_max_attempts(RetryPolicy.attempts)),
                     base_url=config.wechat_base_url())


@lru_cache(maxsize=None)
def _token_cache() -> wecom_state.DynamoTokenCache:
    return wecom_state.DynamoTokenCache()


def app_id(tenant: Tenant) -> str | None:
    return (tenant.settings.official_account_app_id or "").strip() or None


def _secret(tenant: Tenant) -> str | None:
    return secrets.get(tenant.secret_id).get(SECRET_KEY) or None


def callback_keys(tenant: Tenant) -> tuple[str, str, str] | None:
    """(appid, token, EncodingAESKey) of the account's callbacks, or None when the tenant has not set them up."""
    appid = app_id(tenant)
    if not appid:
        return None
    stored = secrets.get(tenant.secret_id)
    token, aes_key = stored.get(CALLBACK_TOKEN_KEY), stored.get(CALLBACK_AES_KEY)
    return (appid, token, aes_key) if token and aes_key else None


def store_callback_keys(tenant: Tenant, token: str, aes_key: str) -> None:
    """Keep the token and EncodingAESKey of the account's 服务器配置 in the tenant's secret (ops, at onboarding)."""
    if not isinstance(token, str) or not CALLBACK_TOKEN.match(token):
        raise BadRequest("the token is 3-32 letters or digits, as the account's 服务器配置 has it",
                         code="invalid_callback_token")
    if not isinstance(aes_key, str) or not AES_KEY.match(aes_key):
        raise BadRequest("the EncodingAESKey is 43 letters, digits, '+' or '/'", code="invalid_callback_aes_key")
    secrets.merge(tenant.secret_id, {CALLBACK_TOKEN_KEY: token, CALLBACK_AES_KEY: aes_key})


def client_for(tenant: Tenant) -> OfficialAccountClient | None:
    """The tenant's official-account client, or None when the tenant has not connected one (appid and secret)."""
    appid = app_id(tenant)
    secret = _secret(tenant) if appid else None
    if not appid or not secret:
        return None
    fingerprint = hashlib.sha256(f"{appid}\x00{secret}".encode("utf-8")).hexdigest()
    with _lock:
        cached = _clients.get(appid)
        if cached is None or cached[0] != fingerprint:
            client = OfficialAccountClient(appid, secret, cache=_token_cache(), transport=_transport())
            cached = _clients[appid] = (fingerprint, client)
    return cached[1]


def authorize_url(tenant: Tenant, redirect_uri: str, state: str) -> str | None:
    """Where to send a visitor in the WeChat client: the account's OAuth with scope snsapi_userinfo (unionid); the
    simulator's page in the local stack and tests, as for WeCom's."""
    appid = app_id(tenant)
    if not appid:
        return None
    return oauth.authorize_url(appid, redirect_uri, scope="snsapi_userinfo", state=state,
                               page_base=config.wecom_login_base_url())


def oauth_identity(tenant: Tenant, code: str) -> dict:
    """`{openid, unionid?}` of the visitor an official-account OAuth code stands for."""
    appid = app_id(tenant)
    secret = _secret(tenant) if appid else None
    if not appid or not secret:
        raise NotFound("this team has not connected a WeChat official account", code="wechat_not_configured")
    if not code or len(code) > 512:
        raise BadRequest("an OAuth code is required", code="invalid_code")
    try:
        answer = official_account_oauth(appid, secret, code, _transport())
    except WeComApiError as err:
        raise Unauthorized(f"WeChat refused the code ({err.errcode})", code="oauth_failed") from err
    return {"openid": answer.get("openid"), "unionid": answer.get("unionid")}


def template_data(body: dict) -> dict[str, dict]:
    """The template's fields: first / keyword1 (the item) / keyword2 (what happened) / keyword3 (when) / remark."""
    at = (datetime.fromtimestamp(float(body.get("at") or 0), tz=CHINA) if body.get("at")
          else clock.utcnow().astimezone(CHINA))
    return {
        "first": {"value": body.get("first") or "您有新的协作内容"},
        "keyword1": {"value": str(body.get("title") or "")[:40]},
        "keyword2": {"value": str(body.get("what") or "")[:40]},
        "keyword3": {"value": at.strftime("%Y-%m-%d %H:%M")},
        "remark": {"value": str(body.get("remark") or "点击查看详情")[:100]},
    }


def deliver_template(tenant: Tenant, body: dict) -> None:
    """The `wechat_template` channel: send the template message if the contact follows the account (user/info
    subscribe = 1), otherwise nothing — they will see it on their home. Configuration errors (no account, a wrong
    template id, an openid of another account) can never succeed and are dead-lettered with the reason."""
    openid = body.get("openid")
    if not openid:
        raise PermanentError("malformed_message", "a wechat_template message needs an openid")
    client = client_for(tenant)
    template_id = (tenant.settings.official_account_template_id or "").strip()
    if client is None or not template_id:
        raise PermanentError("wechat_not_configured", "no official account, secret or template id for the tenant")
    try:
        if not client.follows(openid):
            logger.info("contact does not follow the official account: no template message")
            return
        client.send_template(openid, template_id, template_data(body), url=body.get("url"),
                             client_msg_id=body.get("clientMsgId"))
    except WeComApiError as err:
        if err.not_following:
            logger.info("contact stopped following the official account: no template message")
            return
        if err.template_refused:
            raise PermanentError("wechat_refused", f"{err.errcode}: {err.errmsg}") from err
        raise
