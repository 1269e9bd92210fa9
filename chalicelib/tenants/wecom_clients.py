"""A tenant's WeCom client, built from its record and secrets: the glue between tenants and the WeCom layer.

Token sources are kept per process and per tenant, so the threads and invocations a Lambda instance serves share
one local copy of each token in front of the shared DynamoDB cache. A tenant whose secrets changed (a reset permanent
code, a rotated corp secret) gets new sources on the next call: the cache is keyed by a fingerprint of the secrets.
"""
from __future__ import annotations

import hashlib
import threading
from functools import lru_cache, partial

from chalicelib.core import config
from chalicelib.store import secrets, wecom_state
from chalicelib.store.tenants import SELF_BUILT, SUITE, Tenant
from chalicelib.wecom.client import SuiteClient, WeComClient
from chalicelib.wecom.http import RetryPolicy, Transport
from chalicelib.wecom.jsapi import JsApiTickets
from chalicelib.wecom.ratelimit import DEFAULT_BLOCK, DEFAULT_PER_MINUTE, RateLimiter
from chalicelib.wecom.tokens import TokenSource, corp_token_source, downstream_token_source

_lock = threading.Lock()
_sources: dict[str, tuple[str, tuple[TokenSource, TokenSource, TokenSource]]] = {}
_suites: dict[str, tuple[str, SuiteClient]] = {}
_downstream: dict[tuple[str, str], tuple[str, TokenSource]] = {}
_tickets: dict[str, tuple[str, JsApiTickets]] = {}


@lru_cache(maxsize=None)
def _transport() -> Transport:
    """WeCom's API root (or the simulator's) is given here: `chalicelib.wecom` reads no configuration."""
    return Transport(RetryPolicy(attempts=config.wecom_max_attempts(RetryPolicy.attempts)),
                     base_url=config.wecom_base_url())


@lru_cache(maxsize=None)
def _token_cache() -> wecom_state.DynamoTokenCache:
    return wecom_state.DynamoTokenCache()


@lru_cache(maxsize=None)
def rate_limiter() -> RateLimiter:
    """The process's limiter: every client of every tenant spends permits from it."""
    return RateLimiter(
        wecom_state.DynamoPermitStore(),
        per_minute=config.wecom_rate_per_minute(DEFAULT_PER_MINUTE),
        block=config.wecom_rate_block(DEFAULT_BLOCK),
    )


def _fingerprint(*values: str) -> str:
    return hashlib.sha256("\x00".join(values).encode("utf-8")).hexdigest()


def client_for_tenant(tenant: Tenant, *, wait_for_permits: bool = True) -> WeComClient:
    """The WeCom client for a tenant's corp.

    `wait_for_permits=False` is for SQS consumers: when the corp's rate limit is spent the client raises
    `RateLimited` and the consumer hands the message back for later, instead of idling in the Lambda.
    """
    contacts, customers, app = _token_sources(tenant)
    return WeComClient(
        tenant.corp_id,
        contacts=contacts,
        customers=customers,
        app=app,
        agentid=int(tenant.agent_id) if tenant.agent_id else None,
        transport=_transport(),
        limiter=rate_limiter(),
        wait_for_permits=wait_for_permits,
    )


def downstream_client(tenant: Tenant, corpid: str, *, wait_for_permits: bool = True) -> WeComClient:
    """The client of a downstream corp the tenant's app is shared with (上下游): its token comes from the tenant's
    app through corpgroup/corp/gettoken, cached per (tenant, downstream corp) like every other token, and it reads
    only that corp's members within the app's visible range there."""
    if not tenant.agent_id:
        raise ValueError(f"tenant {tenant.tenant_key} has no app to reach downstream corps with")
    _, _, app = _token_sources(tenant)
    key = (tenant.tenant_key, corpid)
    with _lock:
        cached = _downstream.get(key)
    if cached is None or cached[0] != app.key:
        source = downstream_token_source(app, corpid, int(tenant.agent_id), _token_cache(), _transport())
        cached = (app.key, source)
        with _lock:
            _downstream[key] = cached
    source = cached[1]
    return WeComClient(
        corpid,
        contacts=source,
        customers=source,
        app=source,
        transport=_transport(),
        limiter=rate_limiter(),
        wait_for_permits=wait_for_permits,
    )


def suite_client() -> SuiteClient:
    """The deployment's third-party suite, from its secret (suite_id, suite_secret, callback keys)."""
    stored = secrets.get(config.suite_secret_id())
    suite_id, suite_secret = stored["suite_id"], stored["suite_secret"]
    fingerprint = _fingerprint(suite_id, suite_secret)
    with _lock:
        cached = _suites.get(suite_id)
        if cached is None or cached[0] != fingerprint:
            client = SuiteClient(
                suite_id,
                suite_secret,
                ticket=partial(wecom_state.suite_ticket, suite_id),
                cache=_token_cache(),
                transport=_transport(),
            )
            cached = _suites[suite_id] = (fingerprint, client)
    return cached[1]


def _token_sources(tenant: Tenant) -> tuple[TokenSource, TokenSource, TokenSource]:
    """(contacts, customer contact, app) token sources; one corp token serves all three for a suite tenant."""
    stored = secrets.get(tenant.secret_id)
    if tenant.mode == SELF_BUILT:
        credentials = (stored["contacts_secret"], stored["customer_secret"], stored["app_secret"])
    elif tenant.mode == SUITE:
        credentials = (stored["permanent_code"],)
    else:
        raise ValueError(f"tenant {tenant.tenant_key} has unknown mode {tenant.mode!r}")
    suite = suite_client() if tenant.mode == SUITE else None
    fingerprint = _fingerprint(tenant.corp_id, suite.tokens.key if suite else "", *credentials)
    with _lock:
        cached = _sources.get(tenant.tenant_key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    if suite is not None:
        source = suite.corp_token_source(tenant.corp_id, stored["permanent_code"])
        sources = (source, source, source)
    else:
        contacts, customer, app = [
            corp_token_source(tenant.corp_id, secret, _token_cache(), _transport()) for secret in credentials
        ]
        sources = (contacts, customer, app)
    with _lock:
        _sources[tenant.tenant_key] = (fingerprint, sources)
    return sources


def jsapi_tickets(tenant: Tenant) -> JsApiTickets:
    """The tenant app's JS-SDK tickets (the chat toolbar's `ww.register`), fetched with the app's token: the app
    secret's for a self-built tenant, the corp token through the suite for a suite tenant. Kept per process like the
    token sources, and renewed with them when the tenant's secrets change."""
    _contacts, _customers, app = _token_sources(tenant)
    with _lock:
        cached = _tickets.get(tenant.tenant_key)
        if cached is None or cached[0] != app.key:
            limiter = rate_limiter()
            tickets = JsApiTickets(tenant.corp_id, app, cache=_token_cache(), transport=_transport(),
                                   before=partial(limiter.acquire, tenant.corp_id))
            cached = _tickets[tenant.tenant_key] = (app.key, tickets)
    return cached[1]
