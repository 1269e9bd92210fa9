"""The 与我协作 profile link: every member's WeCom external profile carries a web attribute named exactly `与我协作`
that takes the member's external contacts to the tenant's external home page.

Who is written for (`can_write`): a tenant that authorised the contacts suite (its corp token may edit members), and a
self-built tenant whose secret holds a contacts secret (the local demo tenant is one). WeCom may still refuse a
self-built app (48002 API not permitted, 60011 no privilege): those members end `failed` with the errcode, and the
admin pastes the link from `manual_link` instead. A tenant without either is only ever given the manual link.

How: one SQS message per member (`{"kind": "member"}`), processed by `link_member` — read the member, replace or
insert only our entry, write back only when something differs. A bulk run starts with one `{"kind": "list"}`
message: its consumer lists the corp's members and queues them with SendMessageBatch, paced (DelaySeconds) to the
per-corp rate limit so that the messages arrive about as fast as WeCom may be called. Every message carries the run
it belongs to; each member's outcome in the run is recorded (`chalicelib.store.profile_links`), and the progress is
read back from those records.
"""
from __future__ import annotations

import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from secrets import token_hex
from typing import Any, Callable, NoReturn, Sequence
from urllib.parse import urlencode

from chalicelib.core import config
from chalicelib.core.errors import Conflict, NotFound, PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import count, logger
from chalicelib.store import profile_links as store
from chalicelib.store import queues, secrets
from chalicelib.store import tenants as tenant_store
from chalicelib.store.profile_links import FAILED, LINKED, PENDING
from chalicelib.store.queues import PROFILE_LINKS
from chalicelib.store.tenants import SELF_BUILT, SUITE, Tenant
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import RateLimited, WeComApiError, WeComUnavailable
from chalicelib.tenants.wecom_clients import client_for_tenant, rate_limiter

ATTRIBUTE_NAME = "与我协作"  # must exist among the corp's external attributes, or WeCom drops the entry silently
WEB = 1  # external_attr type of a web link
TITLE_MAX = 12  # WeCom's limit on a web entry's title, in characters
HOME_PATH = "/mobile/wechat/external/home"

MEMBER = "member"
LIST = "list"

PACE_SHARE = 0.9  # queue a run at 90% of the rate limit: the limit is shared with the corp's other work
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds maximum
SEND_CHUNK = 100  # members per task of the parallel fan-out (ten SendMessageBatch calls)
SEND_THREADS = 8
COUNT_EVERY = 10  # chunks between two updates of a run's queued figure while it is being listed
FREQUENCY_LIMIT = 45009  # WeCom blocks the API for the corp for 60 s (minute limit) or an hour (hour limit)
RATE_LIMIT_JITTER = 5
TENANT_CACHE_SECONDS = 60

_tenants: dict[str, tuple[float, Tenant]] = {}


class ManualLinkOnly(Conflict):
    code = "manual_link_only"

    def __init__(self, tenant_key: str) -> None:
        super().__init__(
            f"tenant {tenant_key!r} has not authorised Yunqiao to write member profiles: paste the manual link instead"
        )


class PlaceholderBaseUrl(Conflict):
    code = "public_base_url_placeholder"

    def __init__(self, base: str) -> None:
        super().__init__(
            f"the public base URL {base!r} is a placeholder: set the stage's domain (or the tenant's own public base "
            "URL) before profile links are written"
        )


# --- the link and the write ---------------------------------------------------------------------------------------
def link_url(tenant: Tenant) -> str:
    """The tenant's external home page, under the tenant's own public base URL when it has one.

    Refuses (PlaceholderBaseUrl) a base that is no real deployment's — `https://yunqiao.example.com`, empty: written
    onto thousands of members' profiles, such a link would send their external contacts nowhere."""
    base = (tenant.settings.public_base_url or config.public_base_url()).rstrip("/")
    if config.is_placeholder_url(base):
        raise PlaceholderBaseUrl(base)
    return f"{base}{HOME_PATH}?{urlencode({'tenantKey': tenant.tenant_key})}"


def link_title(tenant: Tenant) -> str:
    """The configured title, cut to WeCom's 12 characters: a longer one would make WeCom refuse every write."""
    title = (tenant.settings.profile_link_title or "").strip() or ATTRIBUTE_NAME
    return title[:TITLE_MAX]


def can_write(tenant: Tenant) -> bool:
    """Whether Yunqiao may write the tenant's member profiles itself (see the module's docstring)."""
    if tenant.mode == SUITE:
        return True
    if tenant.mode == SELF_BUILT:
        return bool(secrets.get(tenant.secret_id).get("contacts_secret"))
    return False


def manual_link(tenant: Tenant) -> dict:
    """What an admin pastes into a member's external profile by hand (and whether Yunqiao writes it anyway)."""
    return {
        "name": ATTRIBUTE_NAME,
        "type": "web",
        "url": link_url(tenant),
        "title": link_title(tenant),
        "automatic": can_write(tenant),
    }


def _is_current(entry: dict, url: str, title: str) -> bool:
    web = entry.get("web") or {}
    return entry.get("type") == WEB and web.get("url") == url and web.get("title") == title


def merged_profile(profile: dict | None, url: str, title: str) -> dict | None:
    """The external_profile to write back so that it carries the link, or None when it already does.

    Only the 与我协作 entry is ours. Every other entry keeps its place and content, and every other field of the
    profile (external_corp_name, ...) goes back exactly as read: whether WeCom clears what an update omits is
    unverified, so the whole profile is written. An outdated entry of ours is replaced where it stands; a second
    one is dropped, since a profile shows one link.
    """
    current = dict(profile or {})
    entries = list(current.get("external_attr") or [])
    ours = {"type": WEB, "name": ATTRIBUTE_NAME, "web": {"url": url, "title": title}}
    merged: list[dict] = []
    placed = False
    for entry in entries:
        if entry.get("name") != ATTRIBUTE_NAME:
            merged.append(entry)
        elif not placed:
            merged.append(entry if _is_current(entry, url, title) else ours)
            placed = True
    if not placed:
        merged.append(ours)
    if merged == entries:
        return None
    return {**current, "external_attr": merged}


def write_member(client: WeComClient, user_id: str, url: str, title: str,
                 before_write: Callable[[], None] = lambda: None) -> bool:
    """Make the member's profile carry the link: user/get, then user/update only if it differs. True if written.

    `before_write` runs just before user/update, so the caller can note the write ahead of it."""
    member = client.get_member(user_id)
    profile = merged_profile(member.get("external_profile"), url, title)
    if profile is None:
        return False
    before_write()
    client.update_member(user_id, {"external_profile": profile})
    return True


# --- queueing -----------------------------------------------------------------------------------------------------
def new_run_id() -> str:
    """Sortable by start time (recent runs are listed from the table in key order), unique by its random tail."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{token_hex(4)}"


def request_members(tenant: Tenant, userids: list[str], trigger: str) -> None:
    """Queue these members' writes at once (a create_user callback: the member who just joined), as a small run."""
    unique = list(dict.fromkeys(user_id for user_id in userids if user_id))
    if not unique:
        return
    if not can_write(tenant):
        logger.info("profile link left to the admin", extra={"trigger": trigger, "members": len(unique)})
        return
    try:
        link_url(tenant)
    except PlaceholderBaseUrl as err:
        logger.error("profile links not written", extra={"trigger": trigger, "reason": err.message})
        return
    run_id = new_run_id()
    store.create_run(tenant.tenant_key, run_id, trigger)
    _queue_members(tenant.tenant_key, run_id, unique, paced=False)


def start_bulk_run(tenant: Tenant, trigger: str) -> str:
    """Start writing the link for every member of the tenant's corp; returns the run id to follow its progress.

    Only the run record and one message are written here: listing the members (user/list_id) and queueing them
    happens in the queue's consumer, so this answers at once whoever calls it — an admin's HTTP request, or the
    create_auth processing, whose retry could not redo the single-use auth code exchange.
    """
    if not can_write(tenant):
        raise ManualLinkOnly(tenant.tenant_key)
    run_id = new_run_id()
    store.create_run(tenant.tenant_key, run_id, trigger)
    queues.send(PROFILE_LINKS.logical_name, _list_message(tenant.tenant_key, run_id, trigger))
    count("ProfileLinkRunStarted", trigger=trigger)
    logger.info("profile link run started", extra={"runId": run_id, "trigger": trigger})
    return run_id


def schedule_runs() -> int:
    """The daily reconciliation: one listing message per enabled tenant, so that no tenant's size or failure delays
    another's. Returns how many were queued. A tenant that may not be written for is skipped by the consumer."""
    keys = [tenant.tenant_key for tenant in tenant_store.all_tenants() if tenant.enabled]
    queues.send_batch(PROFILE_LINKS.logical_name, [_list_message(key, new_run_id(), "schedule") for key in keys])
    logger.info("profile link runs scheduled", extra={"tenants": len(keys)})
    return len(keys)


def _list_message(tenant_key: str, run_id: str, trigger: str) -> dict:
    return {"kind": LIST, "tenantKey": tenant_key, "runId": run_id, "trigger": trigger}


def _pacing(members: int) -> list[int]:
    """DelaySeconds per message: the run reaches the queue at the rate the limiter will let the consumer call."""
    per_second = max(1.0, rate_limiter().per_minute * PACE_SHARE / 60)
    return [min(MAX_DELAY_SECONDS, int(index / per_second)) for index in range(members)]


def _queue_members(tenant_key: str, run_id: str, user_ids: Sequence[str], *, paced: bool) -> None:
    """Send one message per member, ten per SendMessageBatch call, several calls in parallel."""
    bodies = [{"kind": MEMBER, "tenantKey": tenant_key, "runId": run_id, "userId": user_id} for user_id in user_ids]
    delays = _pacing(len(bodies)) if paced else [0] * len(bodies)
    chunks = [
        (bodies[start : start + SEND_CHUNK], delays[start : start + SEND_CHUNK])
        for start in range(0, len(bodies), SEND_CHUNK)
    ]

    def send(chunk: tuple[list[dict], list[int]]) -> int:
        queues.send_batch(PROFILE_LINKS.logical_name, chunk[0], chunk[1])
        return len(chunk[0])

    sent = 0
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(chunks) or 1)) as pool:
        for done, size in enumerate(pool.map(send, chunks), start=1):
            sent += size
            if done % COUNT_EVERY == 0 and sent < len(bodies):
                store.count_queued(tenant_key, run_id, sent)
    store.finish_listing(tenant_key, run_id, len(bodies))


# --- the consumer's work ------------------------------------------------------------------------------------------
def process_message(message: dict, *, attempt: int, final: bool) -> None:
    """Do one queued message. `attempt` is its receive count; `final` says it will not be redelivered after a failure
    (the queue dead-letters it), so a member still failing is recorded as failed rather than pending."""
    kind, tenant_key, run_id = message.get("kind"), message.get("tenantKey"), message.get("runId")
    if kind not in (MEMBER, LIST) or not tenant_key or not run_id or (kind == MEMBER and not message.get("userId")):
        raise PermanentError("malformed_message", "needs kind member|list, tenantKey, runId (and userId)")
    tenant = _tenant(tenant_key)
    if not tenant.enabled:
        logger.info("profile link message for a disabled tenant dropped", extra={"kind": kind})
        return
    if kind == LIST:
        list_run(tenant, run_id, str(message.get("trigger") or "unknown"))
    else:
        link_member(tenant, run_id, str(message["userId"]), attempt=attempt, final=final)


def _tenant(tenant_key: str) -> Tenant:
    """The tenant, kept a minute per process: a bulk run brings an instance thousands of messages of one tenant, and a
    read per message would double the run's DynamoDB requests. A settings change or a disabling takes effect within
    the minute."""
    cached = _tenants.get(tenant_key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        tenant = tenant_store.get(tenant_key)
    except TenantNotFound as err:
        raise PermanentError("tenant_not_found", err.message) from None
    _tenants[tenant_key] = (time.monotonic() + TENANT_CACHE_SECONDS, tenant)
    return tenant


def list_run(tenant: Tenant, run_id: str, trigger: str) -> None:
    """List the corp's members (user/list_id, every cursor) and queue one message per member, paced."""
    tenant_key = tenant.tenant_key
    if not can_write(tenant):  # it could when the run was started; the schedule's runs have no record yet
        if store.get_run(tenant_key, run_id) is not None:
            store.fail_listing(tenant_key, run_id, "the tenant may no longer write member profiles: manual link only")
        logger.info("profile link run skipped: manual link only", extra={"runId": run_id})
        return
    if not store.create_run(tenant_key, run_id, trigger):
        run = store.get_run(tenant_key, run_id)
        if run is not None and run.state != store.LISTING:
            return  # this listing already completed: a duplicate delivery must not queue the run twice
    try:
        link_url(tenant)
    except PlaceholderBaseUrl as err:
        store.fail_listing(tenant_key, run_id, err.message)
        count("ProfileLinkListFailed", errcode="placeholder_base_url")
        logger.error("profile link run refused", extra={"runId": run_id, "reason": err.message})
        return
    client = client_for_tenant(tenant, wait_for_permits=False)
    try:
        user_ids = list(client.list_member_ids())
    except RateLimited as err:
        raise RetryLater(_rate_limited_delay(err), "rate_limited") from None
    except WeComApiError as err:
        if err.transient or err.token_invalid:
            raise
        store.fail_listing(tenant_key, run_id, f"errcode {err.errcode}: {err.errmsg}")
        count("ProfileLinkListFailed", errcode=str(err.errcode))
        logger.warning("member list refused", extra={"runId": run_id, "errcode": err.errcode})
        return
    _queue_members(tenant_key, run_id, user_ids, paced=True)
    logger.info("profile link run queued", extra={"runId": run_id, "members": len(user_ids)})


def link_member(tenant: Tenant, run_id: str, user_id: str, *, attempt: int, final: bool) -> None:
    """Write one member's link and record the outcome; raises for the queue to retry a transient failure.

    A refusal no retry can change (60011 no privilege, 60111 unknown userid, 48002 not permitted, any other
    non-transient errcode) marks the member failed and completes the message.
    """
    try:
        url, title = link_url(tenant), link_title(tenant)
    except PlaceholderBaseUrl as err:
        store.record(tenant.tenant_key, run_id, user_id, FAILED, attempts=attempt, message=err.message)
        count("ProfileLinkFailed", errcode="placeholder_base_url")
        return
    # A redelivered message finds the link it wrote last time already there: what this run wrote stays counted.
    wrote = store.written_in_run(tenant.tenant_key, run_id, user_id)

    def note_write() -> None:
        nonlocal wrote
        store.mark_writing(tenant.tenant_key, run_id, user_id, attempts=attempt)
        wrote = True

    try:
        written = write_member(client_for_tenant(tenant, wait_for_permits=False), user_id, url, title, note_write)
    except WeComApiError as err:
        if err.transient or err.token_invalid:
            _retry_later(tenant.tenant_key, run_id, user_id, err, attempt, final, written=wrote)
        store.record(tenant.tenant_key, run_id, user_id, FAILED, attempts=attempt, errcode=err.errcode,
                     message=err.errmsg, written=wrote)
        count("ProfileLinkFailed", errcode=str(err.errcode))
        return
    except (WeComUnavailable, RateLimited) as err:
        _retry_later(tenant.tenant_key, run_id, user_id, err, attempt, final, written=wrote)
    store.record(tenant.tenant_key, run_id, user_id, LINKED, attempts=attempt, url=url, written=written or wrote)


def _retry_later(tenant_key: str, run_id: str, user_id: str, err: Exception, attempt: int, final: bool, *,
                 written: bool) -> NoReturn:
    """Record the member pending (failed at the last attempt) and hand the message back for later.

    The client's permit ran out → after the limiter's window. WeCom's 45009 → a minute or more, growing: WeCom blocks
    the API for 60 s, or an hour after the hourly limit. Anything else (busy, a gateway, a timeout) → re-raised for the
    queue's own jittered backoff.
    """
    errcode = err.errcode if isinstance(err, WeComApiError) else None
    if final or not isinstance(err, RateLimited):  # a spent permit is no news about the member: no write for it
        message = err.errmsg if isinstance(err, WeComApiError) else str(err)
        store.record(tenant_key, run_id, user_id, FAILED if final else PENDING, attempts=attempt, errcode=errcode,
                     message=message, written=written)
    if final:
        count("ProfileLinkFailed", errcode=str(errcode if errcode is not None else type(err).__name__))
    if isinstance(err, RateLimited):
        raise RetryLater(_rate_limited_delay(err), "rate_limited") from None
    if errcode == FREQUENCY_LIMIT:
        ceiling = min(MAX_DELAY_SECONDS, 60 * 2 ** (attempt - 1))
        raise RetryLater(int(random.uniform(ceiling, min(MAX_DELAY_SECONDS, ceiling * 1.5))), "wecom_45009") from None
    raise err


def _rate_limited_delay(err: RateLimited) -> int:
    """After the limiter's window, spread a little so the held-back messages do not all return in the same second."""
    return math.ceil(err.retry_after) + random.randint(0, RATE_LIMIT_JITTER)


# --- progress -----------------------------------------------------------------------------------------------------
def progress(tenant: Tenant, run_id: str, *, failed_after: str = "", failed_limit: int = 100) -> dict[str, Any]:
    """A run's figures and its failed members with their reasons (by userid, `failed_limit` after `failed_after`).

    pending = queued − linked − failed: members not done yet, `retrying` of them after a transient failure.
    """
    tenant_key = tenant.tenant_key
    run = store.get_run(tenant_key, run_id)
    if run is None:
        raise NotFound(f"no profile-link run {run_id!r}", code="run_not_found")
    written = store.count_members(tenant_key, run_id, LINKED, written_only=True)  # first: never above `linked`
    tally = {status: store.count_members(tenant_key, run_id, status) for status in (LINKED, FAILED, PENDING)}
    failed = store.members_in(tenant_key, run_id, FAILED, after=failed_after, limit=failed_limit + 1)
    queued = max(int(run.queued), sum(tally.values()))  # members may be done before the listing counted them
    pending = queued - tally[LINKED] - tally[FAILED]
    if run.state == store.LIST_FAILED:
        state = "failed"
    elif run.state == store.LISTING:
        state = "listing"
    else:
        state = "done" if pending == 0 else "running"
    return {
        "runId": run_id,
        "trigger": run.trigger,
        "state": state,
        "error": run.error,
        "startedAt": run.started_at.isoformat(),
        "listedAt": run.listed_at.isoformat() if run.listed_at else None,
        "queued": queued,
        "linked": tally[LINKED],
        "written": written,
        "failed": tally[FAILED],
        "pending": pending,
        "retrying": tally[PENDING],
        "failedMembers": [
            {
                "userId": member.user_id,
                "errcode": None if member.errcode is None else int(member.errcode),
                "message": member.message,
                "attempts": int(member.attempts),
            }
            for member in failed[:failed_limit]
        ],
        "nextFailedAfter": failed[failed_limit - 1].user_id if len(failed) > failed_limit else None,
    }


def recent_runs(tenant: Tenant, limit: int = 20) -> list[dict]:
    """The tenant's latest runs, newest first; `progress` has each one's figures."""
    return [
        {
            "runId": run.run_id,
            "trigger": run.trigger,
            "startedAt": run.started_at.isoformat(),
            "queued": int(run.queued),
        }
        for run in store.recent_runs(tenant.tenant_key, limit)
    ]
