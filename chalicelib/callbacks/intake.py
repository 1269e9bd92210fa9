"""Receiving WeCom callbacks — and a WeChat official account's, which are signed and encrypted the same way:
authenticate, decrypt, deduplicate, queue — and nothing slower.

WeCom gives us 5 s (1 s for suite authorisations) and resends anything unanswered, so the HTTP path makes no
WeCom call and does exactly three writes for a new event: the conditional put of its dedupe record (pending), the SQS
send, and the record's update to queued — without that last write a redelivery could not tell an event already
queued from one whose first delivery died while sending it.
Everything refused here is refused before anything is written, with a reason the handler turns into a 4xx.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from chalicelib.core import clock, config
from chalicelib.core.errors import AppError, BadRequest, Forbidden, NotFound, PayloadTooLarge
from chalicelib.core.observability import count, logger
from chalicelib.store import callback_events, queues, secrets
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import SUITE, Tenant
from chalicelib.wecom.crypto import RECEIVE_ID_MISMATCH, SIGNATURE_ERROR, WeComCrypto, WeComCryptoError
from chalicelib.tenants import official_account
from chalicelib.wecom.events import WeComEvent, official_account_event, parse_event
from chalicelib.wecom.xmlparse import XML_FORBIDDEN, XML_TOO_LARGE, XmlError, parse_envelope, parse_xml

MAX_BODY_BYTES = 64 * 1024
QUEUE = "callbacks"
SUITE_REPLY = "success"


@dataclass(frozen=True)
class SignedQuery:
    msg_signature: str
    timestamp: str
    nonce: str
    echostr: str | None = None


@dataclass(frozen=True)
class Accepted:
    """An event taken in: `duplicate` when it was a redelivery, answered without queuing again."""

    kind: str
    duplicate: bool


def signed_query(params: Mapping[str, str] | None, with_echostr: bool = False) -> SignedQuery:
    params = params or {}
    names = ("msg_signature", "timestamp", "nonce") + (("echostr",) if with_echostr else ())
    missing = [name for name in names if not params.get(name)]
    if missing:
        raise _refused(BadRequest(f"missing query parameters: {', '.join(missing)}", code="missing_signature"))
    return SignedQuery(params["msg_signature"], params["timestamp"], params["nonce"], params.get("echostr"))


def verify_tenant_url(tenant_key: str, query: SignedQuery) -> str:
    """The URL check WeCom makes when an admin saves the callback URL: answer the decrypted echostr."""
    tenant = _tenant(tenant_key)
    crypto = _tenant_crypto(tenant)
    echo = _decrypt(crypto, query, query.echostr or "")
    _check_fresh(query)
    return echo.message


def accept_tenant_event(tenant_key: str, query: SignedQuery, body: bytes) -> Accepted:
    _check_size(body)
    tenant = _tenant(tenant_key)
    event = _open_event(_tenant_crypto(tenant), query, body)
    return _record_and_queue(tenant.tenant_key, event, {"tenantKey": tenant.tenant_key})


def verify_suite_url(suite_id: str, query: SignedQuery) -> str:
    suite = _suite(suite_id)
    echo = _decrypt(_suite_crypto(suite), query, query.echostr or "")
    if echo.receive_id != suite["suite_id"]:
        _suite_data_tenant(echo.receive_id)
    _check_fresh(query)
    return echo.message


def accept_suite_event(suite_id: str, query: SignedQuery, body: bytes) -> Accepted:
    """Instruction callbacks are addressed to the suite; data callbacks to the authorising corp's tenant."""
    _check_size(body)
    suite = _suite(suite_id)
    crypto = _suite_crypto(suite)
    envelope = _envelope(body)
    opened = _decrypt(crypto, query, envelope.encrypt)
    _check_fresh(query)
    event = _parse(opened.message)
    if opened.receive_id == suite["suite_id"]:
        return _record_and_queue(f"suite#{suite['suite_id']}", event, {"suiteId": suite["suite_id"]})
    tenant = _suite_data_tenant(opened.receive_id)
    return _record_and_queue(tenant.tenant_key, event, {"tenantKey": tenant.tenant_key})


# --- a WeChat official account's own callbacks (security mode) ------------------------------------------------------
OA_SCOPE = "oa"


@dataclass(frozen=True)
class OfficialAccountCheck:
    """The account's URL check: a plain signature over token, timestamp and nonce; the echostr comes back as sent."""

    signature: str
    timestamp: str
    nonce: str
    echostr: str


def official_account_check(params: Mapping[str, str] | None) -> OfficialAccountCheck:
    params = params or {}
    missing = [name for name in ("signature", "timestamp", "nonce", "echostr") if not params.get(name)]
    if missing:
        raise _refused(BadRequest(f"missing query parameters: {', '.join(missing)}", code="missing_signature"))
    return OfficialAccountCheck(params["signature"], params["timestamp"], params["nonce"], params["echostr"])


def official_account_query(params: Mapping[str, str] | None) -> SignedQuery:
    """A pushed message's query: security mode only (`encrypt_type=aes` with `msg_signature`). A plaintext push — the
    account left in 明文模式 — is refused: its body would be unencrypted and signed by nothing but the URL."""
    params = params or {}
    if params.get("encrypt_type", "aes") != "aes":
        raise _refused(BadRequest("set the official account's message encryption to 安全模式 (encrypt_type=aes)",
                                  code="unencrypted_callback"))
    return signed_query(params)


def verify_official_account_url(tenant_key: str, check: OfficialAccountCheck) -> str:
    """The check WeChat makes when the account's 服务器配置 is saved: answer the echostr when the signature holds."""
    _appid, crypto = _official_account(tenant_key)
    if not crypto.url_signature_matches(check.signature, check.timestamp, check.nonce):
        raise _refused(Forbidden("signature does not match", code="invalid_signature"))
    _check_fresh(SignedQuery(check.signature, check.timestamp, check.nonce))
    return check.echostr


def accept_official_account_event(tenant_key: str, query: SignedQuery, body: bytes) -> Accepted:
    """A follow, unfollow or scan (or anything else the account pushes): authenticated, decrypted with the account's
    appid as receiver, deduplicated and queued like a WeCom callback."""
    _check_size(body)
    appid, crypto = _official_account(tenant_key)
    envelope = _envelope(body)
    opened = _decrypt(crypto, query, envelope.encrypt)
    _check_fresh(query)
    try:
        event = official_account_event(parse_xml(opened.message, MAX_BODY_BYTES))
    except XmlError as err:
        raise _refused(_xml_refusal(err)) from None
    return _record_and_queue(f"{tenant_key}#{OA_SCOPE}", event, {"tenantKey": tenant_key, "officialAccount": appid})


def _official_account(tenant_key: str) -> tuple[str, WeComCrypto]:
    tenant = _tenant(tenant_key)
    keys = official_account.callback_keys(tenant)
    if keys is None:
        raise _refused(NotFound("this team has not set up its official account's callbacks",
                                code="wechat_not_configured"))
    appid, token, aes_key = keys
    return appid, _crypto(token, aes_key, appid)


def _refused(error: AppError) -> AppError:
    count("CallbackRejected", reason=error.code)
    logger.warning("callback refused", extra={"code": error.code, "reason": error.message})
    return error


def _check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise _refused(PayloadTooLarge(f"body is {len(body)} bytes, over {MAX_BODY_BYTES}", code="body_too_large"))


def _check_fresh(query: SignedQuery) -> None:
    """A valid signature on an old timestamp is a replay: WeCom signs every delivery with the current time."""
    try:
        age = abs(clock.now() - int(query.timestamp))
    except ValueError:
        raise _refused(BadRequest("timestamp is not a number", code="invalid_timestamp")) from None
    if age > config.callback_max_age_seconds():
        raise _refused(Forbidden(f"timestamp is {int(age)} s away from now", code="stale_timestamp"))


def _tenant(tenant_key: str) -> Tenant:
    try:
        return tenant_store.get_enabled_recent(tenant_key)
    except AppError as err:
        raise _refused(err) from None


@lru_cache(maxsize=256)
def _crypto(token: str, aes_key: str, receive_id: str | None) -> WeComCrypto:
    """One instance per key set and receiver, kept for the life of the process (it holds its prepared cipher)."""
    return WeComCrypto(token, aes_key, receive_id)


def _tenant_crypto(tenant: Tenant) -> WeComCrypto:
    if tenant.mode == SUITE:
        suite = _suite(config.suite_id() or "")
        return _crypto(suite["callback_token"], suite["callback_aes_key"], tenant.corp_id)
    keys = secrets.get(tenant.secret_id)
    return _crypto(keys["callback_token"], keys["callback_aes_key"], tenant.corp_id)


def _suite(suite_id: str) -> dict:
    if not config.suite_id() or suite_id != config.suite_id():
        raise _refused(NotFound(f"no suite {suite_id!r}", code="suite_not_found"))
    return secrets.get(config.suite_secret_id())


def _suite_crypto(suite: dict) -> WeComCrypto:
    return _crypto(suite["callback_token"], suite["callback_aes_key"], None)


def _suite_data_tenant(corp_id: str) -> Tenant:
    tenant = tenant_store.find_by_corp(corp_id)
    if tenant is None or tenant.mode != SUITE or not tenant.enabled:
        raise _refused(NotFound(f"no suite tenant for corp {corp_id!r}", code="tenant_not_found"))
    return tenant


def _envelope(body: bytes):
    try:
        return parse_envelope(body, MAX_BODY_BYTES)
    except XmlError as err:
        raise _refused(_xml_refusal(err)) from None


def _xml_refusal(err: XmlError) -> AppError:
    if err.code == XML_TOO_LARGE:
        return PayloadTooLarge(err.message, code="body_too_large")
    if err.code == XML_FORBIDDEN:
        return BadRequest("XML with a DTD or entities is refused", code="forbidden_xml")
    return BadRequest(err.message, code="malformed_xml")


def _decrypt(crypto: WeComCrypto, query: SignedQuery, encrypt: str):
    try:
        return crypto.decrypt(query.msg_signature, query.timestamp, query.nonce, encrypt)
    except WeComCryptoError as err:
        if err.code == SIGNATURE_ERROR:
            raise _refused(Forbidden("signature does not match", code="invalid_signature")) from None
        if err.code == RECEIVE_ID_MISMATCH:
            raise _refused(Forbidden("message is addressed to another receiver", code="receiver_mismatch")) from None
        raise _refused(BadRequest(f"cannot decrypt ({err.code})", code="undecryptable")) from None


def _open_event(crypto: WeComCrypto, query: SignedQuery, body: bytes) -> WeComEvent:
    envelope = _envelope(body)
    opened = _decrypt(crypto, query, envelope.encrypt)
    _check_fresh(query)
    return _parse(opened.message)


def _parse(message: str) -> WeComEvent:
    try:
        return parse_event(message)
    except XmlError as err:
        raise _refused(_xml_refusal(err)) from None


def _record_and_queue(scope: str, event: WeComEvent, address: dict) -> Accepted:
    """A new event: one conditional put (pending), one send, one update (queued). A redelivery of a queued event is a
    duplicate; one of a pending event — the first delivery is still sending, or failed or died sending — queues it
    again rather than drop it (consumers are idempotent, so a second message has no second effect). A failed send
    leaves the record pending and answers 5xx, so WeCom's retry queues the event."""
    earlier = callback_events.record_once(scope, event.dedupe_key, event.kind)
    if earlier == callback_events.QUEUED:
        count("CallbackDuplicate", kind=event.kind or "unknown")
        logger.info("duplicate callback", extra={"kind": event.kind, "changeType": event.change_type})
        return Accepted(event.kind, duplicate=True)
    if earlier == callback_events.PENDING:
        count("CallbackRequeued", kind=event.kind or "unknown")
        logger.info("redelivered callback not queued yet: queuing it",
                    extra={"kind": event.kind, "changeType": event.change_type})
    received_at = clock.utcnow().isoformat()
    queues.send(QUEUE, {**address, "event": event.fields, "receivedAt": received_at})
    callback_events.mark_queued(scope, event.dedupe_key)
    logger.info("callback queued", extra={"kind": event.kind, "changeType": event.change_type})
    return Accepted(event.kind, duplicate=False)
