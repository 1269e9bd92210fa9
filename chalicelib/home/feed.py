"""What an external contact sees and does on their home (与我协作): counts and newest items per kind, per-kind lists,
an item's detail with their conversation about it, comments, and filling a shared form.

Every read is confined to the caller's own partition or checked against their sharer row, so an item not shared with
them answers 404 `item_not_found` by whatever id it is asked for, and so does an item of an app the tenant closed to
external users (chalicelib.accounts.apps). Costs: the home is 2 DynamoDB requests (the session, then the contact,
its account, its home summary and the tenant's app choice in one BatchGetItem), a list page one Query per kind it merges,
a detail one BatchGetItem (item + sharer row) and one Query (the conversation).
"""
from __future__ import annotations

from typing import Any

from chalicelib.accounts import apps
from chalicelib.auth import sessions
from chalicelib.accounts.service import ContactCaller, check_contact_session
from chalicelib.core import cursors
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.sharing import kinds, items
from chalicelib.sharing.kinds import public, render
from chalicelib.store import accounts as account_store
from chalicelib.store import shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact
from chalicelib.store.shares import ItemRow, SharerRow

PAGE_DEFAULT, PAGE_MAX = 20, 50
THREAD_SHOWN = 50
NOTICES_SHOWN = 10


def item_not_found() -> NotFound:
    return NotFound("该内容未共享给您，或已不再共享", code="item_not_found")


# --- the home -----------------------------------------------------------------------------------------------------
def home_caller(session: sessions.SessionInfo) -> tuple[ContactCaller, shares.HomeRow | None, list[str] | None]:
    """The contact behind a session, their home summary and the tenant's choice of apps open to them (None: the
    default set). The contact, its
    account, the summary and the tenant's app choice are read in one BatchGetItem, with the tenant when this process
    has not read it within the minute (a cold start) — what keeps the home at two requests, cold or warm. The tenant
    must be enabled (else 404, as on every session route), then the session is held to
    `accounts.service.check_contact_session`, the same rules as every other contact route."""
    tenant_known = tenant_store.recent(session.tenant_key) is not None
    contact, account, home, chosen, *tenant = shares.get_many([
        (Contact, session.tenant_key, session.subject),
        (account_store.AccountItem, session.tenant_key, account_store.contact_key(session.subject)),
        (shares.ShareRow, shares.contact_pk(session.tenant_key, session.subject), shares.HOME_SK),
        (account_store.AccountItem, session.tenant_key, account_store.APPS_KEY),
        *([] if tenant_known else [(tenant_store.Tenant, session.tenant_key, None)]),
    ])
    if tenant:
        tenant_store.keep_recent(session.tenant_key, tenant[0])
    tenant_store.get_enabled_recent(session.tenant_key)
    caller = check_contact_session(session, contact, account)
    return caller, home if isinstance(home, shares.HomeRow) else None, (
        list(chosen.apps or []) if chosen is not None else None)


def _sorted(cards: list[dict]) -> list[dict]:
    return sorted(cards, key=lambda card: card.get("sharedAt") or "", reverse=True)


def home(caller: ContactCaller, summary: shares.HomeRow | None, chosen_apps: list[str] | None) -> dict[str, Any]:
    """Counts and the newest items per kind and per page section, and replies not read yet — all from the summary —
    and the apps open to the contact. Only the kinds of apps open to external users are shown: a section whose apps
    are all closed is left out."""
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    open_kinds = apps.open_kinds(chosen_apps)
    counts = shares.plain(summary.counts) if summary is not None else {}
    latest = shares.plain(summary.latest) if summary is not None else {}
    notices = shares.plain(summary.notices) if summary is not None else {}
    shown = [kind for kind in kinds.KINDS if kind in open_kinds]
    per_kind = {kind: max(0, int(counts.get(kind) or 0)) for kind in shown}
    newest = {kind: list(latest.get(kind) or [])[:shares.LATEST_PER_KIND] for kind in shown}
    sections = [
        {"key": key, "label": label, "kinds": [kind for kind in section_kinds if kind in per_kind],
         "count": sum(per_kind.get(kind, 0) for kind in section_kinds),
         "latest": _sorted([card for kind in section_kinds for card in newest.get(kind, [])])[:shares.LATEST_PER_KIND]}
        for key, label, section_kinds in kinds.SECTIONS
        if any(kind in per_kind for kind in section_kinds)
    ]
    return {
        "contact": {"contactId": caller.contact_id, "name": caller.contact.name},
        "tenant": {"tenantKey": tenant.tenant_key, "name": tenant.name},
        "sections": sections,
        "apps": apps.described(chosen_apps),
        "counts": per_kind,
        "latest": newest,
        "notices": sorted((notice for notice in notices.values() if notice.get("kind") in per_kind),
                          key=lambda n: n.get("at") or "", reverse=True)[:NOTICES_SHOWN],
    }


# --- lists --------------------------------------------------------------------------------------------------------
def requested_kinds(kind: str | None, section: str | None) -> tuple[str, ...]:
    """`kind=task`, `kind=project,task` or `section=tasks`."""
    if section:
        if kind:
            raise BadRequest("give kind or section, not both", code="invalid_kind")
        return kinds.section_kinds(section)
    wanted = tuple(dict.fromkeys(part.strip() for part in (kind or "").split(",") if part.strip()))
    if not wanted:
        raise BadRequest(f"kind is required: one or more of {', '.join(kinds.KINDS)}", code="invalid_kind")
    unknown = [k for k in wanted if k not in kinds.KINDS]
    if unknown:
        raise BadRequest(f"unknown kind {unknown[0]!r}: one of {', '.join(kinds.KINDS)}", code="invalid_kind")
    return wanted


def list_items(caller: ContactCaller, wanted: tuple[str, ...], cursor: str | None, limit: int) -> dict[str, Any]:
    """Items of these kinds shared with the caller, newest shared first. One Query per kind; a list of several kinds
    (a page section) merges them by share time, and its cursor remembers where each kind's stream stands. Kinds of
    apps the tenant closed to external users are left out; a list of nothing but closed kinds is 404 `app_closed`."""
    open_kinds = apps.kinds_open(caller.tenant_key)
    wanted = tuple(kind for kind in wanted if kind in open_kinds)
    if not wanted:
        raise NotFound("这个应用未向外部用户开放", code="app_closed")
    prefixes = {kind: shares.feed_prefix(kind) for kind in wanted}
    scope = f"feed:{caller.tenant_key}:{caller.contact_id}"
    positions = cursors.decode_many(cursor, prefixes, scope=scope)
    fetched: list[shares.FeedRow] = []
    more = False
    for kind in wanted:
        rows, kind_more = shares.feed_page(caller.tenant_key, caller.contact_id, kind, limit, positions.get(kind))
        fetched.extend(rows)
        more = more or kind_more
    fetched.sort(key=lambda row: (row.shared_at, row.sk), reverse=True)
    page = fetched[:limit]
    more = more or len(fetched) > limit
    for row in page:
        positions[row.kind] = row.sk
    return {
        "items": [public(row.item, row.shared_at) for row in page],
        "nextCursor": cursors.encode_many(positions, scope=scope) if more else None,
    }


# --- one item -----------------------------------------------------------------------------------------------------
def _shared(caller: ContactCaller, kind: str, item_id: str) -> tuple[ItemRow, SharerRow]:
    if kind not in kinds.KINDS or not kinds.ITEM_ID.match(item_id or ""):
        raise item_not_found()
    if kind not in apps.kinds_open(caller.tenant_key):
        raise item_not_found()  # its app is closed to external users: as if never shared
    item, sharer = shares.item_and_sharer(caller.tenant_key, kind, item_id, caller.contact_id)
    if item is None or sharer is None:
        raise item_not_found()
    return item, sharer


def detail(caller: ContactCaller, kind: str, item_id: str) -> dict[str, Any]:
    """The item as it is now, with the caller's conversation about it; opening it marks replies read."""
    item, sharer = _shared(caller, kind, item_id)
    rows, more = shares.thread(caller.tenant_key, kind, item_id, caller.contact_id, THREAD_SHOWN)
    if sharer.unread:
        shares.clear_notice(caller.tenant_key, caller.contact_id, kind, item_id)
    return {"item": public(render(item), sharer.shared_at), "comments": [items.comment_json(r) for r in rows],
            "moreComments": more}


def comment(caller: ContactCaller, kind: str, item_id: str, body: dict) -> dict[str, Any]:
    """The contact writes to the company about an item; its owner gets a WeCom app card."""
    item, _sharer = _shared(caller, kind, item_id)
    text = kinds.comment_text(body.get("text"))
    name = caller.contact.name
    row = shares.add_comment(caller.tenant_key, kind, item_id, caller.contact_id, author_kind="contact",
                             author_id=caller.contact_id, author_name=name, text=text)
    items.notify_owner(caller.tenant_key, item, title=f"{name}评论了「{item.title}」"[:128],
                       description=f"{kinds.KIND_LABELS[kind]}「{item.title}」\n{name}：{text}"[:512])
    return items.comment_json(row)


def submit(caller: ContactCaller, kind: str, item_id: str, body: dict) -> dict[str, Any]:
    """The contact fills in a shared form: checked against its fields, stored, and its owner told."""
    item, _sharer = _shared(caller, kind, item_id)
    if kind != "form" or item.form is None:
        raise BadRequest("only a shared form can be filled in", code="not_a_form")
    values = kinds.submission_values(shares.plain(item.form).get("fields") or [], body.get("values"))
    row = shares.add_submission(caller.tenant_key, item_id, caller.contact_id, caller.contact.name, values)
    items.notify_owner(caller.tenant_key, item, title=f"{caller.contact.name}提交了表单「{item.title}」"[:128],
                       description=f"{len(values)} 项已填写"[:512])
    return {"submissionId": row.sk.split("#", 1)[1], "submittedAt": row.created_at, "values": values}
