"""Access tokens: fetched once, shared by every Lambda instance, refreshed ahead of expiry by exactly one of them.

Every fresh `gettoken` may invalidate the token other instances hold, so tokens live in a shared cache (DynamoDB in
production, see `chalicelib.store.wecom_state`) and a refresh is coordinated with a lease: the instance whose
conditional write wins fetches the token, the others wait briefly and read the winner's. A token rejected by WeCom
is dropped only if the cache still holds exactly that token (conditional on its value), so a late instance never
throws away the fresh token another one has just stored. A source also remembers the tokens WeCom rejected for it:
another instance's refresh that began before WeCom invalidated its tokens can store the old token back (gettoken
answers the live token), and a rejected token found in the cache is replaced, never handed out again.

Cache keys name the corp (or suite) and a hash of the credential, never the secret itself.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Protocol, TypeVar

from chalicelib.wecom.errors import SuiteTicketMissing, WeComApiError, WeComUnavailable
from chalicelib.wecom.http import Sleep, Transport

log = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_MARGIN = 300  # refresh five minutes before WeCom's expiry: calls in flight never carry an expiring token
LEASE_SECONDS = 15.0  # longer than a gettoken with its retries normally takes; an abandoned lease expires by itself
POLL_SECONDS = 0.05
REJECTED_KEPT = 8  # rejected tokens remembered per source; one is enough to stop the loop, a few cover bursts


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # when WeCom stops accepting it
    refresh_at: float  # when the instances start replacing it


@dataclass(frozen=True)
class CacheEntry:
    token: Token | None
    lease_until: float = 0.0


class TokenCache(Protocol):
    """The shared token store; every write is conditional so that concurrent instances cannot undo each other."""

    def read(self, key: str) -> CacheEntry:
        """The cached token and the current lease (a strongly consistent read)."""

    def lease(self, key: str, holder: str, *, now: float, until: float, current: str | None) -> bool:
        """Take the refresh lease if it is free (absent or expired) and the cached token is still `current`."""

    def store(self, key: str, holder: str, token: Token) -> bool:
        """Save the token and release the lease, only while `holder` still holds it."""

    def release(self, key: str, holder: str) -> None:
        """Give the lease up (a failed fetch) if `holder` still holds it."""

    def drop(self, key: str, value: str) -> None:
        """Forget the cached token if it is still `value`."""


Fetch = Callable[[], tuple[str, int]]  # -> (token, expires_in seconds)


def credential_key(owner: str, *credential: str) -> str:
    """`<owner>#<hash>`: one cache entry per credential, without writing the credential anywhere."""
    digest = hashlib.sha256("\x00".join(credential).encode("utf-8")).hexdigest()[:32]
    return f"{owner}#{digest}"


class TokenSource:
    """One credential's token, as seen from one process: a local copy in front of the shared cache.

    The local copy is used until the shared refresh point, which all instances read from the same cache entry, so
    no instance keeps using a token after another has started replacing it.
    """

    def __init__(
        self,
        key: str,
        fetch: Fetch,
        cache: TokenCache,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = time.sleep,
        refresh_margin: float = REFRESH_MARGIN,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.key = key
        self._fetch = fetch
        self._cache = cache
        self._clock = clock
        self._sleep = sleep
        self._margin = refresh_margin
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._holder = uuid.uuid4().hex
        self._local: Token | None = None
        self._rejected: deque[str] = deque(maxlen=REJECTED_KEPT)
        self._lock = threading.Lock()  # the threads of one instance refresh one at a time

    def token(self) -> str:
        """A token valid for a while yet; fetched from WeCom only when no instance has a fresh one."""
        local = self._local
        if local is not None and self._clock() < local.refresh_at:
            return local.value
        with self._lock:
            local = self._local
            if local is None or self._clock() >= local.refresh_at:
                local = self._local = self._shared()
            return local.value

    def invalidate(self, value: str) -> None:
        """WeCom rejected `value`: forget it here and in the cache, unless the cache already holds a newer one."""
        with self._lock:
            if self._local is not None and self._local.value == value:
                self._local = None
            if value not in self._rejected:
                self._rejected.append(value)
        self._cache.drop(self.key, value)

    def _shared(self) -> Token:
        deadline = self._clock() + 2 * self._lease_seconds
        while True:
            entry = self._cache.read(self.key)
            now = self._clock()
            usable = entry.token is not None and entry.token.value not in self._rejected
            if usable and now < entry.token.refresh_at:
                return entry.token
            if entry.lease_until <= now:
                current = entry.token.value if entry.token is not None else None
                if self._cache.lease(self.key, self._holder, now=now, until=now + self._lease_seconds, current=current):
                    token = self._refresh()
                    if token is not None:
                        return token
                    continue
            if now > deadline:
                raise WeComUnavailable(self.key, "another instance's token refresh did not finish", 0)
            self._sleep(self._poll_seconds)

    def _refresh(self) -> Token | None:
        """Fetch and store a token under our lease; None when the lease was lost meanwhile (read the winner's)."""
        started = self._clock()
        try:
            value, expires_in = self._fetch()
        except BaseException:
            self._cache.release(self.key, self._holder)
            raise
        margin = min(self._margin, expires_in / 2)
        token = Token(value, started + expires_in, started + expires_in - margin)
        return token if self._cache.store(self.key, self._holder, token) else None


def call_with_token(source: TokenSource, call: Callable[[str], T]) -> T:
    """Run `call` with the source's token; if WeCom rejects that token, drop exactly it, refresh once, call once more.

    Refreshing on 40001 and 40014 too, not only on 42001, matters: WeCom often reports an expired token as 40014.
    """
    used = source.token()
    try:
        return call(used)
    except WeComApiError as err:
        if not err.token_invalid:
            raise
        log.info("WeCom %s rejected the token (errcode %s): refreshing once", err.path, err.errcode)
        source.invalidate(used)
        return call(source.token())


def corp_token_source(corpid: str, secret: str, cache: TokenCache, transport: Transport, **options: Any) -> TokenSource:
    """A self-built app's token for one secret (contacts, customer contact, or an app's): `gettoken`."""

    def fetch() -> tuple[str, int]:
        answer = transport.cgi("GET", "gettoken", params={"corpid": corpid, "corpsecret": secret})
        return answer["access_token"], int(answer["expires_in"])

    return TokenSource(credential_key(corpid, corpid, secret), fetch, cache, **options)


def suite_token_source(
    suite_id: str,
    suite_secret: str,
    ticket: Callable[[], str | None],
    cache: TokenCache,
    transport: Transport,
    **options: Any,
) -> TokenSource:
    """The third-party suite's token, from its secret and the latest suite_ticket WeCom pushed (`ticket()`)."""

    def fetch() -> tuple[str, int]:
        current = ticket()
        if not current:
            raise SuiteTicketMissing(suite_id)
        answer = transport.cgi(
            "POST",
            "service/get_suite_token",
            body={"suite_id": suite_id, "suite_secret": suite_secret, "suite_ticket": current},
        )
        return answer["suite_access_token"], int(answer["expires_in"])

    return TokenSource(credential_key(suite_id, "suite", suite_id, suite_secret), fetch, cache, **options)


def suite_corp_token_source(
    suite: TokenSource,
    auth_corpid: str,
    permanent_code: str,
    cache: TokenCache,
    transport: Transport,
    **options: Any,
) -> TokenSource:
    """An authorising corp's token through the suite (`service/get_corp_token`); it serves every API of that corp."""

    def fetch() -> tuple[str, int]:
        answer = call_with_token(
            suite,
            lambda suite_token: transport.cgi(
                "POST",
                "service/get_corp_token",
                params={"suite_access_token": suite_token},
                body={"auth_corpid": auth_corpid, "permanent_code": permanent_code},
            ),
        )
        return answer["access_token"], int(answer["expires_in"])

    return TokenSource(
        credential_key(auth_corpid, "suite_corp", auth_corpid, permanent_code), fetch, cache, **options
    )


def downstream_token_source(
    app: TokenSource,
    corpid: str,
    agentid: int,
    cache: TokenCache,
    transport: Transport,
    **options: Any,
) -> TokenSource:
    """A downstream corp's token, through the upstream app shared with it (`corpgroup/corp/gettoken`, business_type 1
    = 上下游): it reads that corp's members within the app's visible range there. One cache entry per upstream
    credential (the app source's key), shared app and downstream corp: two upstream corps sharing with the same
    downstream corp never hand each other their tokens."""

    def fetch() -> tuple[str, int]:
        answer = call_with_token(
            app,
            lambda app_token: transport.cgi(
                "POST",
                "corpgroup/corp/gettoken",
                params={"access_token": app_token},
                body={"corpid": corpid, "business_type": 1, "agentid": agentid},
            ),
        )
        return answer["access_token"], int(answer["expires_in"])

    return TokenSource(credential_key(corpid, "downstream", app.key, str(agentid)), fetch, cache, **options)
