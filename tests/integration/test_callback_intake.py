"""The callback URLs: verification, acceptance, deduplication, and every refusal — through the real routes."""
from __future__ import annotations

import json
import time

import pytest

from tests.integration.conftest import DEMO_SECRETS
from tests.integration.wecom_peer import customer_event, event_xml, signed_echo, signed_post

TOKEN, AES_KEY = DEMO_SECRETS["callback_token"], DEMO_SECRETS["callback_aes_key"]
XML = {"Content-Type": "text/xml"}


@pytest.fixture
def tenant(make_tenant):
    return make_tenant()


def post(client, path, query, body, headers=XML):
    return client.http.post(f"{path}?{query}", headers=headers, body=body)


def error_of(reply):
    assert reply.headers["Content-Type"] == "application/json"
    return json.loads(reply.body)["error"]


# --- the official and wechatpy vectors, through the routes ------------------------------------------------------

@pytest.fixture
def old_vectors_allowed(monkeypatch):
    """The published vectors are signed years ago: only they get a replay window that wide."""
    monkeypatch.setenv("YQ_CALLBACK_MAX_AGE", str(10 ** 10))


@pytest.mark.parametrize("vector", [
    ("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7",
     "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr="
     "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D",
     "1616140317555161061"),
    ("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a",
     "msg_signature=dd6b9c95b495b3f7e2901bfbc76c664930ffdb96&timestamp=1411443780&nonce=437374425&echostr="
     "4ByGGj%2BsVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1%2BbXFXDQQb1o6co6Yh9Bv41n7hOchLF6p%2BQ%3D%3D",
     "5927782489442352469"),
])
def test_url_verification_vectors_answer_the_plain_echo(client, make_tenant, old_vectors_allowed, vector):
    token, key, corp_id, query, plain = vector
    tenant = make_tenant(corp_id=corp_id, wecom_secrets=dict(DEMO_SECRETS, callback_token=token, callback_aes_key=key))
    reply = client.http.get(f"/wecom/callback/{tenant.tenant_key}?{query}")
    assert reply.status_code == 200
    assert reply.body == plain.encode()
    assert reply.headers["Content-Type"].startswith("text/plain")


def test_url_verification_with_a_wrong_nonce_is_refused(client, make_tenant, old_vectors_allowed):
    tenant = make_tenant(corp_id="wx49f0ab532d5d035a", wecom_secrets=dict(
        DEMO_SECRETS, callback_token="123456", callback_aes_key="kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"))
    reply = client.http.get(
        f"/wecom/callback/{tenant.tenant_key}?msg_signature=dd6b9c95b495b3f7e2901bfbc76c664930ffdb96&timestamp="
        "1411443780&nonce=437374424&echostr=4ByGGj%2BsVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1%2BbXFXDQQb1o6co6Y"
        "h9Bv41n7hOchLF6p%2BQ%3D%3D")
    assert reply.status_code == 403
    assert error_of(reply)["code"] == "invalid_signature"


def test_official_post_vector_is_accepted_and_queued(client, make_tenant, old_vectors_allowed, callbacks_queue):
    tenant = make_tenant(corp_id="wx5823bf96d3bd56c7", wecom_secrets=dict(
        DEMO_SECRETS, callback_token="QDG6eK", callback_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"))
    encrypt = (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUk"
        "SUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ek"
        "UNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0"
        "+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8"
        "R07+qN+E7Q==")
    body = f"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>" \
           "<AgentID><![CDATA[218]]></AgentID></xml>"
    reply = post(client, f"/wecom/callback/{tenant.tenant_key}",
                 "msg_signature=477715d11cdb4164915debcba66cb864d751f3e6&timestamp=1409659813&nonce=1372623149",
                 body.encode())
    assert reply.status_code == 200 and reply.body == b"success"
    [message] = callbacks_queue.messages()
    assert message["body"]["tenantKey"] == tenant.tenant_key
    assert message["body"]["event"]["Content"] == "hello"
    assert message["body"]["event"]["FromUserName"] == "mycreate"


# --- accepting fresh events -------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/xml", "application/xml; charset=utf-8", None])
def test_event_is_verified_recorded_and_queued_once(client, tenant, callbacks_queue, dedupe_records, content_type):
    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id,
                              customer_event(tenant.corp_id, "add_external_contact", "zhangsan", "wmA"))
    headers = {"Content-Type": content_type} if content_type else {}
    before = dedupe_records()
    first = post(client, f"/wecom/callback/{tenant.tenant_key}", query, body, headers)
    retry = post(client, f"/wecom/callback/{tenant.tenant_key}", query, body, headers)
    assert (first.status_code, first.body) == (200, b"success")
    assert (retry.status_code, retry.body) == (200, b"success")
    [message] = callbacks_queue.messages()
    assert message["body"]["event"]["ExternalUserID"] == "wmA"
    assert message["body"]["event"]["ChangeType"] == "add_external_contact"
    assert dedupe_records() == before + 1


def test_two_adds_in_one_second_differing_only_in_external_user_are_both_queued(client, tenant, callbacks_queue):
    second = int(time.time())
    for external in ("wmFirst", "wmSecond"):
        query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id,
                                  customer_event(tenant.corp_id, "add_external_contact", "zhangsan", external, second))
        assert post(client, f"/wecom/callback/{tenant.tenant_key}", query, body).status_code == 200
    assert sorted(m["body"]["event"]["ExternalUserID"] for m in callbacks_queue.messages()) == ["wmFirst", "wmSecond"]


def test_unknown_event_kinds_are_accepted(client, tenant, callbacks_queue):
    document = event_xml(ToUserName=tenant.corp_id, FromUserName="sys", CreateTime=int(time.time()),
                         MsgType="event", Event="brand_new_event", ChangeType="whatever")
    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id, document)
    assert post(client, f"/wecom/callback/{tenant.tenant_key}", query, body).status_code == 200
    assert [m["body"]["event"]["Event"] for m in callbacks_queue.messages()] == ["brand_new_event"]


def test_a_failed_send_leaves_the_event_pending_so_the_retry_queues_it(client, tenant, callbacks_queue, monkeypatch):
    from chalicelib.store import queues

    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id,
                              customer_event(tenant.corp_id, "add_external_contact", "lisi", "wmLost"))
    real_send = queues.send

    def broken_send(*_args, **_kwargs):
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(queues, "send", broken_send)
    failed = post(client, f"/wecom/callback/{tenant.tenant_key}", query, body)
    assert failed.status_code == 500
    assert error_of(failed) == {"code": "internal_error", "message": "internal error"}
    monkeypatch.setattr(queues, "send", real_send)
    assert post(client, f"/wecom/callback/{tenant.tenant_key}", query, body).status_code == 200
    assert [m["body"]["event"]["ExternalUserID"] for m in callbacks_queue.messages()] == ["wmLost"]


def test_a_retry_while_the_first_send_is_in_flight_is_queued_and_the_first_timing_out_loses_nothing(
        client, tenant, callbacks_queue, emulator, monkeypatch):
    """WeCom resends an event it got no answer to within 5 s: here the first delivery's SQS send hangs (and at last
    times out, as a Lambda killed by its time limit never answers either). The retry finds the event recorded but
    not queued: it queues it and answers success; a later redelivery is a plain duplicate."""
    import threading

    from botocore.exceptions import ReadTimeoutError

    from chalicelib.store import queues

    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id,
                              customer_event(tenant.corp_id, "add_external_contact", "lisi", "wmInFlight"))
    path = f"/wecom/callback/{tenant.tenant_key}"
    real_send = queues.send
    in_flight, time_out = threading.Event(), threading.Event()
    sends: list[str] = []

    def first_send_hangs(*args, **kwargs):
        sends.append(threading.current_thread().name)
        if len(sends) == 1:
            in_flight.set()
            time_out.wait()
            raise ReadTimeoutError(endpoint_url="https://sqs.example/queue")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(queues, "send", first_send_hangs)
    answers: list = []
    first = threading.Thread(target=lambda: answers.append(post(client, path, query, body)), name="first")
    first.start()
    try:
        in_flight.wait()
        retry = post(client, path, query, body)
        queued = [m["body"]["event"]["ExternalUserID"] for m in callbacks_queue.messages()]
    finally:
        time_out.set()
        first.join()
    assert (retry.status_code, retry.body) == (200, b"success")
    assert queued == ["wmInFlight"]
    assert answers[0].status_code == 500
    again = post(client, path, query, body)
    assert (again.status_code, again.body) == (200, b"success")
    assert len(sends) == 2 and len(callbacks_queue.messages()) == 1


# --- refusals: a 4xx with a JSON error, and nothing recorded or queued ---------------------------------------------

def _forged(tenant):
    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id, customer_event(tenant.corp_id, "add_external_contact", "a", "b"))
    return query.replace("msg_signature=", "msg_signature=0"), body


def _stale(tenant):
    return signed_post(TOKEN, AES_KEY, tenant.corp_id, customer_event(tenant.corp_id, "add_external_contact", "a", "b"),
                       timestamp=int(time.time()) - 3600)


def _other_receiver(tenant):
    return signed_post(TOKEN, AES_KEY, "wwsomeoneelse", customer_event("wwsomeoneelse", "add_external_contact", "a", "b"))


def _other_key(tenant):
    return signed_post(TOKEN, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", tenant.corp_id,
                       customer_event(tenant.corp_id, "add_external_contact", "a", "b"))


def _malformed(tenant):
    query, _ = signed_post(TOKEN, AES_KEY, tenant.corp_id, "<xml/>")
    return query, b"<xml><Encrypt>unterminated"


def _doctype(tenant):
    query, _ = signed_post(TOKEN, AES_KEY, tenant.corp_id, "<xml/>")
    return query, b'<!DOCTYPE xml [<!ENTITY e "x">]><xml><Encrypt>&e;</Encrypt></xml>'


def _billion_laughs(tenant):
    query, _ = signed_post(TOKEN, AES_KEY, tenant.corp_id, "<xml/>")
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    return query, f'<!DOCTYPE xml [<!ENTITY l0 "lol">{entities}]><xml><Encrypt>&l9;</Encrypt></xml>'.encode()


def _oversized(tenant):
    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id, "<xml/>")
    return query, body.replace(b"</xml>", b"<Pad>" + b"x" * 65536 + b"</Pad></xml>")


def _inner_not_xml(tenant):
    return signed_post(TOKEN, AES_KEY, tenant.corp_id, "this is not xml")


def _missing_signature(tenant):
    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id, customer_event(tenant.corp_id, "add_external_contact", "a", "b"))
    return "&".join(p for p in query.split("&") if not p.startswith("msg_signature")), body


@pytest.mark.parametrize("case, status, code", [
    (_forged, 403, "invalid_signature"),
    (_stale, 403, "stale_timestamp"),
    (_other_receiver, 403, "receiver_mismatch"),
    (_other_key, 400, "undecryptable"),
    (_malformed, 400, "malformed_xml"),
    (_doctype, 400, "forbidden_xml"),
    (_billion_laughs, 400, "forbidden_xml"),
    (_oversized, 413, "body_too_large"),
    (_inner_not_xml, 400, "malformed_xml"),
    (_missing_signature, 400, "missing_signature"),
])
def test_refused_callbacks_write_and_queue_nothing(client, tenant, callbacks_queue, dedupe_records, case, status, code):
    query, body = case(tenant)
    before = dedupe_records()
    reply = post(client, f"/wecom/callback/{tenant.tenant_key}", query, body)
    assert reply.status_code == status
    assert error_of(reply)["code"] == code
    assert callbacks_queue.messages() == []
    assert dedupe_records() == before


def test_unknown_and_disabled_tenants_are_404_and_write_nothing(client, tenant, callbacks_queue, dedupe_records):
    from chalicelib.store import tenants

    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id, customer_event(tenant.corp_id, "add_external_contact", "a", "b"))
    before = dedupe_records()
    unknown = post(client, "/wecom/callback/tnnobody00", query, body)
    tenants.set_enabled(tenant, False)
    disabled = post(client, f"/wecom/callback/{tenant.tenant_key}", query, body)
    for reply in (unknown, disabled):
        assert reply.status_code == 404
        assert error_of(reply)["code"] == "tenant_not_found"
    assert callbacks_queue.messages() == [] and dedupe_records() == before


def test_non_xml_content_type_is_415(client, tenant, callbacks_queue):
    query, body = signed_post(TOKEN, AES_KEY, tenant.corp_id, customer_event(tenant.corp_id, "add_external_contact", "a", "b"))
    reply = post(client, f"/wecom/callback/{tenant.tenant_key}", query, body, {"Content-Type": "application/json"})
    assert reply.status_code == 415
    assert error_of(reply)["code"] == "unsupported_media_type"
    assert callbacks_queue.messages() == []


def test_url_verification_refuses_stale_and_forged_checks(client, tenant):
    fresh = signed_echo(TOKEN, AES_KEY, tenant.corp_id, "echo-123")
    assert client.http.get(f"/wecom/callback/{tenant.tenant_key}?{fresh}").body == b"echo-123"
    stale = signed_echo(TOKEN, AES_KEY, tenant.corp_id, "echo-123", timestamp=int(time.time()) - 3600)
    assert error_of(client.http.get(f"/wecom/callback/{tenant.tenant_key}?{stale}"))["code"] == "stale_timestamp"
    forged = fresh.replace("msg_signature=", "msg_signature=f")
    assert client.http.get(f"/wecom/callback/{tenant.tenant_key}?{forged}").status_code == 403
    missing = "&".join(p for p in fresh.split("&") if not p.startswith("echostr"))
    assert error_of(client.http.get(f"/wecom/callback/{tenant.tenant_key}?{missing}"))["code"] == "missing_signature"
