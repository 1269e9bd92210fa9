"""Retries of `chalicelib.wecom.http.Transport`, against a scripted session: no network, no real sleeping."""
from __future__ import annotations

import pytest
import requests

from chalicelib.wecom.errors import WeComApiError, WeComUnavailable
from chalicelib.wecom.http import RetryPolicy, Transport


class Response:
    def __init__(self, status: int = 200, body: object = None, text: str | None = None) -> None:
        self.status_code = status
        self._body = body
        self._text = text

    def json(self) -> object:
        if self._text is not None:
            raise ValueError("not JSON")
        return self._body


class ScriptedSession:
    """Answers each request with the next scripted outcome (a Response, or an exception to raise)."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[dict] = []

    def request(self, method, url, **kwargs):
        self.requests.append({"method": method, "url": url, **kwargs})
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def ok(**fields) -> Response:
    return Response(body={"errcode": 0, "errmsg": "ok", **fields})


def err(errcode: int) -> Response:
    return Response(body={"errcode": errcode, "errmsg": f"error {errcode}"})


def transport(session: ScriptedSession, sleeps: list[float], attempts: int = 4) -> Transport:
    return Transport(
        RetryPolicy(attempts=attempts, base_delay=0.1, max_delay=1.0),
        base_url="http://wecom.test",
        sleep=sleeps.append,
        rand=lambda: 1.0,
        session=lambda: session,
    )


def test_backoff_is_full_jitter_under_an_exponential_cap():
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    assert [policy.backoff(n, rand=lambda: 1.0) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert policy.backoff(3, rand=lambda: 0.0) == 0.0
    assert policy.backoff(2, rand=lambda: 0.5) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "failure",
    [
        err(-1),
        err(45009),
        err(45033),
        Response(502, text="<html>502</html>"),
        Response(200, text="<html>gateway</html>"),
        requests.ReadTimeout("read timed out: http://wecom.test/cgi-bin/gettoken?corpsecret=SECRET"),
        requests.ConnectTimeout(),
        requests.ConnectionError("Connection aborted: RemoteDisconnected"),
        requests.exceptions.ChunkedEncodingError(),
    ],
    ids=["busy", "45009", "45033", "http502", "not-json", "read-timeout", "connect-timeout", "dropped", "chunked"],
)
def test_transient_failures_are_retried_then_succeed(failure):
    session = ScriptedSession(failure, failure, ok(userid="zhangsan"))
    sleeps: list[float] = []
    answer = transport(session, sleeps).cgi("GET", "user/get", params={"userid": "zhangsan"})
    assert answer == {"userid": "zhangsan"}
    assert len(session.requests) == 3
    assert sleeps == pytest.approx([0.1, 0.2])


def test_a_transient_errcode_after_the_last_attempt_is_raised_with_its_code():
    session = ScriptedSession(*[err(45009)] * 4)
    with pytest.raises(WeComApiError) as caught:
        transport(session, []).cgi("POST", "message/send", body={})
    assert caught.value.errcode == 45009
    assert caught.value.transient
    assert caught.value.path == "message/send"
    assert len(session.requests) == 4


def test_transport_failures_after_the_last_attempt_raise_unavailable_without_the_url():
    secret_url_error = requests.ConnectionError("Max retries exceeded with url: /cgi-bin/gettoken?corpsecret=SECRET")
    session = ScriptedSession(*[secret_url_error] * 3)
    with pytest.raises(WeComUnavailable) as caught:
        transport(session, [], attempts=3).cgi("GET", "gettoken", params={"corpsecret": "SECRET"})
    assert caught.value.attempts == 3
    assert caught.value.reason == "ConnectionError"
    assert "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("errcode", [40001, 40014, 42001, 48002, 60111, 84061])
def test_other_errcodes_are_not_retried(errcode):
    session = ScriptedSession(err(errcode))
    sleeps: list[float] = []
    with pytest.raises(WeComApiError) as caught:
        transport(session, sleeps).cgi("GET", "user/get")
    assert caught.value.errcode == errcode
    assert not caught.value.transient
    assert len(session.requests) == 1 and sleeps == []


def test_a_client_http_error_is_not_retried():
    session = ScriptedSession(Response(404, text="not found"))
    with pytest.raises(WeComUnavailable) as caught:
        transport(session, []).cgi("GET", "user/get")
    assert caught.value.reason == "HTTP 404"
    assert len(session.requests) == 1


def test_every_request_has_a_connect_and_read_timeout_and_utf8_json():
    session = ScriptedSession(ok())
    transport(session, []).cgi("POST", "user/update", params={"access_token": "t"}, body={"name": "张三"})
    sent = session.requests[0]
    assert sent["url"] == "http://wecom.test/cgi-bin/user/update"
    assert sent["timeout"] == (3.0, 10.0)
    assert sent["data"] == '{"name": "张三"}'.encode("utf-8")
    assert sent["headers"]["Content-Type"].startswith("application/json")


def test_before_attempt_runs_before_each_attempt_including_retries():
    session = ScriptedSession(err(-1), ok())
    permits: list[int] = []
    transport(session, []).cgi("GET", "user/get", before_attempt=lambda: permits.append(len(session.requests)))
    assert permits == [0, 1]


def test_a_success_without_errcode_is_a_success():
    """WeChat's official-account OAuth answers success without errcode."""
    session = ScriptedSession(Response(body={"openid": "o1", "access_token": "x"}))
    assert transport(session, []).request("GET", "http://wechat.test/sns", path="sns") == {
        "openid": "o1",
        "access_token": "x",
    }


def test_error_classification():
    assert WeComApiError(-1, "busy", "p").transient
    assert not WeComApiError(-1, "busy", "p").token_invalid
    for code in (40001, 40014, 42001, 42009, 40082):
        assert WeComApiError(code, "", "p").token_invalid
    assert not WeComApiError(40085, "", "p").token_invalid
