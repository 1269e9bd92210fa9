"""HTTP to WeCom: one pooled session per process, a timeout on every request, bounded retries with full jitter.

A Lambda instance serves many invocations, so its TCP/TLS connections to WeCom are worth keeping: one
`requests.Session` per process, created on first use. `requests` is imported lazily too: a callback that only
decrypts an event and queues it never pays for it on a cold start.

No call outlasts its invocation: a handler states how long the invocation has left (`deadline`, from the Lambda
context), and every attempt's timeouts, every backoff and the decision to try again fit in that time less a margin
the function keeps to answer — a retried call can no longer run past the API function's 10 s and be cut off mid-way.

What is retried: WeCom busy (-1), frequency and concurrency limits (45009, 45033), HTTP 5xx from a gateway,
timeouts, refused or dropped connections, and answers that are not JSON. Everything else is returned or raised
at once, because trying again cannot change the answer.
"""
from __future__ import annotations

import json
import logging
import random
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from chalicelib.wecom.errors import WeComApiError, WeComUnavailable

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to call WeCom.

    Four attempts with delays capped at a few seconds keep a call's worst case within a Lambda's time budget while
    riding out WeCom's short "system busy" spells.
    """

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    connect_timeout: float = 3.0
    read_timeout: float = 10.0

    def backoff(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry).

        Full jitter — uniform between 0 and the exponential cap — spreads out the retries of many Lambda instances
        that failed at the same moment, instead of bringing them back in lockstep against a busy WeCom.
        """
        return rand() * min(self.max_delay, self.base_delay * (2**retry))


DEADLINE_MARGIN = 1.0  # seconds an invocation keeps for itself after giving up on WeCom (record, answer, retry later)
MIN_ATTEMPT = 0.5  # an attempt with less time than this left is not started: it could only time out

_remaining: ContextVar[Callable[[], float] | None] = ContextVar("wecom_remaining_seconds", default=None)


@contextmanager
def deadline(remaining_seconds: Callable[[], float] | None) -> Iterator[None]:
    """Bound every WeCom call made inside by the invocation's remaining time (`remaining_seconds()`, read at each
    step; e.g. the Lambda context's `get_remaining_time_in_millis() / 1000`). None: unbounded (scripts, the CLI)."""
    token = _remaining.set(remaining_seconds)
    try:
        yield
    finally:
        _remaining.reset(token)


def _budget() -> float | None:
    """Seconds the current WeCom call may still take, or None when no deadline is set."""
    remaining = _remaining.get()
    return None if remaining is None else remaining() - DEADLINE_MARGIN


_session: Any = None
_session_lock = threading.Lock()


def shared_session() -> Any:
    """The process's `requests.Session`; urllib3's own retries are off because `Transport` does the retrying."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                import requests  # deferred: home and callback intake never call WeCom (see the docstring)
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                _session = session
    return _session


class _Retryable(Exception):
    """One attempt failed in a way another attempt may not."""

    def __init__(self, reason: str, error: WeComApiError | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


class Transport:
    """Sends one WeCom API call, retrying transient failures; returns a successful answer's fields (without
    errcode and errmsg, which WeChat's OAuth omits on success anyway). `base_url` is the API root the caller gives
    (WeCom's, WeChat's, or a simulator's): this package reads no configuration."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        base_url: str,
        sleep: Sleep = time.sleep,
        rand: Callable[[], float] = random.random,
        session: Callable[[], Any] = shared_session,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.base_url = base_url.rstrip("/")
        self._sleep = sleep
        self._rand = rand
        self._session = session

    def cgi(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        before_attempt: Callable[[], None] | None = None,
    ) -> dict:
        """Call a `/cgi-bin/` API by its path relative to it, e.g. `user/get`."""
        url = f"{self.base_url}/cgi-bin/{path}"
        return self.request(method, url, path=path, params=params, body=body, before_attempt=before_attempt)

    def request(
        self,
        method: str,
        url: str,
        *,
        path: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        before_attempt: Callable[[], None] | None = None,
    ) -> dict:
        """Call `url`; `path` names the API in errors and logs (the URL's query may carry a token or a secret).

        `before_attempt` runs before every attempt, retries included: WeCom counts each of them against the
        corp's rate limit, so the client-side limiter must count them too.
        """
        attempts = self.policy.attempts
        attempt = 1
        while True:
            budget = _budget()
            if budget is not None and budget < MIN_ATTEMPT:
                raise WeComUnavailable(path, "no time left before the function's timeout", attempt - 1)
            if before_attempt is not None:
                before_attempt()
            try:
                return self._attempt(method, url, path, params, body, attempt, budget)
            except _Retryable as failure:
                delay = self.policy.backoff(attempt - 1, self._rand)
                budget = _budget()
                out_of_time = budget is not None and budget < delay + MIN_ATTEMPT
                if attempt >= attempts or out_of_time:
                    if failure.error is not None:
                        raise failure.error from None
                    reason = f"{failure.reason}, no time left to retry" if out_of_time else failure.reason
                    raise WeComUnavailable(path, reason, attempt) from None
                log.warning("WeCom %s failed (%s), retry %d of %d in %.2fs", path, failure.reason, attempt,
                            attempts - 1, delay)
            self._sleep(delay)
            attempt += 1

    def _attempt(
        self, method: str, url: str, path: str, params: dict | None, body: dict | None, attempt: int,
        budget: float | None,
    ) -> dict:
        import requests  # already loaded by shared_session(); local for the reason above

        connect, read = self.policy.connect_timeout, self.policy.read_timeout
        if budget is not None:
            connect, read = min(connect, budget), min(read, budget)

        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = None if body is None else {"Content-Type": "application/json; charset=utf-8"}
        try:
            response = self._session().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=(connect, read),
            )
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # Only the exception's kind: its text quotes the URL with the token or secret.
            raise _Retryable(type(exc).__name__) from None
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise WeComUnavailable(path, f"HTTP {response.status_code}", attempt)
        try:
            answer = response.json()
        except ValueError:
            raise _Retryable("answer is not JSON") from None
        if not isinstance(answer, dict):
            raise _Retryable("answer is not a JSON object")
        errcode = int(answer.get("errcode") or 0)
        if errcode == 0:
            return {key: value for key, value in answer.items() if key not in ("errcode", "errmsg")}
        error = WeComApiError(errcode, str(answer.get("errmsg", "")), path)
        if error.transient:
            raise _Retryable(f"errcode {errcode}", error)
        raise error
