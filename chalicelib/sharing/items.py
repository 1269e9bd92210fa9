"""What internal members do with shared items: register and update them, share them with contacts (共享人), unshare,
reply to contacts, read form submissions, tell a contact (template message) or an owner (text card). The chat toolbar's
own work — send to the chat's customer, bindings, the project view — is `chalicelib.sharing.toolbar`.

Who may do what with an item (the eteams module that registers it knows its owner and internal members):
- register it: its module, with the team's service key, for any active member; a member only as its owner;
- open it (see it in full in the toolbar, reply to a contact about it): its owner and the members it is shared
  with internally (`members`, view or edit);
- maintain it (update it, share and unshare it, see a form's submissions): its owner and members with `edit`.
Being an admin grants nothing in the item's work (its module decides who works on it), except the way back from a
wrong registration: an admin may give the item to another owner or delete it. A contact can be shared with only
by a member who may see that contact (the directory's rules); unsharing needs no sight of the contact.
"""
from __future__ import annotations

from urllib.parse import quote
from typing import Any, Callable, Iterable

from chalicelib.notifications import queueing
from chalicelib.core import cursors
from chalicelib.directory import audit
from chalicelib.directory import contacts as directory
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.core.observability import logger
from chalicelib.auth.identity import Caller, require_admin
from chalicelib.tenants.members import known_member
from chalicelib.sharing import kinds
from chalicelib.sharing.kinds import public, render
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact
from chalicelib.store.shares import ItemRow, SharerRow
from chalicelib.directory import permissions
from chalicelib.store import members
from chalicelib.profile_links.link import PlaceholderBaseUrl, link_url

WRITE_ATTEMPTS = 5
INTEGRATION = "service"  # `registeredBy` of items their module registered with the service key
THREAD_PAGE = 50
SUBMISSIONS_PAGE, SUBMISSIONS_MAX = 50, 100


def item_not_found() -> NotFound:
    return NotFound("no such item", code="item_not_found")


def can_open(user_id: str, item: ItemRow) -> bool:
    return user_id == item.owner_id or user_id in shares.plain(item.members)


def can_maintain(user_id: str, item: ItemRow) -> bool:
    return user_id == item.owner_id or shares.plain(item.members).get(user_id) == "edit"


def _require_item(caller: Caller, kind: str, item_id: str) -> ItemRow:
    item = shares.get_item(caller.tenant_key, kinds.check_kind(kind), kinds.check_item_id(item_id))
    if item is None:
        raise item_not_found()
    return item


def _require_maintainer(caller: Caller, item: ItemRow) -> None:
    if not can_maintain(caller.user_id, item):
        raise Forbidden("only the item's owner and members with edit permission may do this", code="not_item_editor")


def describe(item: ItemRow, caller: Caller | None) -> dict[str, Any]:
    """The item as members see it: what contacts see, plus its internal members, version and the caller's rights
    (`caller` None: the item's own module, which maintains it)."""
    rendered = render(item)
    shown = {key: rendered.get(key) for key in kinds.SHOWN_KEYS if key != "sharedAt"}
    shown.update({key: rendered[key] for key in ("form", "values") if key in rendered})
    shown.update(members=shares.plain(item.members), version=int(item.version),
                 canMaintain=caller is None or can_maintain(caller.user_id, item))
    return shown


def open_item(caller: Caller, kind: str, item_id: str) -> dict[str, Any]:
    """The item for its owner and internal members (403 for other members)."""
    item = _require_item(caller, kind, item_id)
    if not can_open(caller.user_id, item):
        raise Forbidden("only the item's owner and members may open it", code="not_item_member")
    return describe(item, caller)


# --- registering and updating -------------------------------------------------------------------------------------
def _owner_field(body: dict) -> str | None:
    owner_id = body.get("ownerId")
    if owner_id is not None and (not isinstance(owner_id, str) or not kinds.USER_ID.match(owner_id)):
        raise BadRequest("ownerId must be a member's userid", code="invalid_owner")
    return owner_id


def register(caller: Caller, kind: str, item_id: str, body: dict) -> tuple[dict, bool]:
    """A member creates or updates an item (PUT). A member registers only items they own (`ownerId` left out or
    their own userid): an item of someone else is registered by its module with the team's service key, so nobody
    can publish in another member's name or squat an id its owner's module will register. Updating needs maintainer
    rights; changing the owner is the owner's own decision. Returns the item and whether it was created."""
    kinds.check_kind(kind)
    kinds.check_item_id(item_id)
    fields = kinds.item_fields(kind, body)
    owner_id = _owner_field(body)
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)

    def may_update(existing: ItemRow) -> str | None:
        _require_maintainer(caller, existing)
        if owner_id is not None and owner_id != existing.owner_id and caller.user_id != existing.owner_id:
            raise Forbidden("only the owner may hand the item to someone else", code="owner_only")
        return owner_id

    def owner_of_new() -> str:
        if owner_id is not None and owner_id != caller.user_id:
            raise Forbidden("a member registers only items they own (ownerId left out or your own userid); the "
                            "module an item belongs to registers it for its owner", code="not_own_item")
        return caller.user_id

    item, created = _save(tenant, kind, item_id, fields, caller.user_id, owner_of_new, may_update)
    return describe(item, caller), created


def register_for_integration(tenant: tenant_store.Tenant, kind: str, item_id: str, body: dict) -> tuple[dict, bool]:
    """The item's own module registers or updates it with the team's service key: `ownerId` (an active member) is
    required and authoritative, so a new owner replaces the old one and an id a member registered first is taken
    back for its real owner."""
    kinds.check_kind(kind)
    kinds.check_item_id(item_id)
    fields = kinds.item_fields(kind, body)
    owner_id = _owner_field(body)
    if owner_id is None:
        raise BadRequest("ownerId is required: the member the item belongs to", code="owner_required")
    item, created = _save(tenant, kind, item_id, fields, INTEGRATION, lambda: owner_id, lambda _existing: owner_id)
    return describe(item, None), created


def _save(tenant: tenant_store.Tenant, kind: str, item_id: str, fields: dict, actor: str,
          owner_of_new: Callable[[], str], may_update: Callable[[ItemRow], str | None]) -> tuple[ItemRow, bool]:
    """Create the item, or update it once `may_update` allowed it (returning the owner it may set, if any); an update
    is re-rendered at once in the feed and home of every sharer."""
    for _ in range(WRITE_ATTEMPTS):
        existing = shares.get_item(tenant.tenant_key, kind, item_id)
        if existing is None:
            item = _create(tenant, actor, kind, item_id, fields, owner_of_new())
            if item is not None:
                _index_members(tenant.tenant_key, None, item)
                return item, True
            continue
        owner_id = may_update(existing)
        changes: dict[str, Any] = dict(fields)
        if owner_id is not None and owner_id != existing.owner_id:
            changes.update(owner_id=owner_id, owner_name=_member_name(tenant, owner_id))
        if shares.update_item(tenant.tenant_key, kind, item_id, changes, int(existing.version)):
            item = shares.get_item(tenant.tenant_key, kind, item_id)
            _index_members(tenant.tenant_key, existing, item)
            fan_out(tenant.tenant_key, item)
            return item, False
    raise Conflict("the item kept changing; try again", code="item_changed")


def _people(item: ItemRow | None) -> set[str]:
    return set() if item is None else {item.owner_id, *shares.plain(item.members)}


def _index_members(tenant_key: str, before: ItemRow | None, after: ItemRow | None) -> None:
    """Keep the members' own-items hints (the chat toolbar's 本人的项目) in line with the item's owner and members:
    written after the item, so a reader checks each hint against the item itself."""
    item = after or before
    if item is None:
        return
    now = _people(after)
    shares.index_member_items(tenant_key, item.kind, item.item_id, now, _people(before) - now)


def reindex_members(tenant_key: str) -> int:
    """Write the members' own-items hints of every item of the tenant (items registered before the hints existed,
    or a hint lost to a crash between an item's write and its own); returns how many items were indexed."""
    count = 0
    for item in shares.tenant_items(tenant_key):
        _index_members(tenant_key, None, item)
        count += 1
    return count


def _member_name(tenant: tenant_store.Tenant, user_id: str) -> str:
    member = known_member(tenant, user_id)
    if member is None:
        raise BadRequest(f"{user_id!r} is not an active member of this team", code="invalid_owner")
    return member.name or user_id


def _create(tenant: tenant_store.Tenant, actor: str, kind: str, item_id: str, fields: dict,
            owner_id: str) -> ItemRow | None:
    owner_name = _member_name(tenant, owner_id)
    row = ItemRow(shares.item_pk(tenant.tenant_key, kind, item_id), shares.ITEM_SK, kind=kind, item_id=item_id,
                  owner_id=owner_id, owner_name=owner_name, version=1, registered_by=actor,
                  registered_at=shares.stamp(), **{key: value for key, value in fields.items() if value is not None})
    return row if shares.create_item(row) else None


def reclaim(caller: Caller, kind: str, item_id: str, body: dict) -> dict:
    """An admin gives an item to another active member (`PUT …/owner {ownerId}`): the way back from an item
    registered under the wrong owner. Its sharers see the new owner at once."""
    require_admin(caller)
    kinds.check_kind(kind)
    kinds.check_item_id(item_id)
    owner_id = _owner_field(body)
    if owner_id is None:
        raise BadRequest("ownerId is required", code="invalid_owner")
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    for _ in range(WRITE_ATTEMPTS):
        existing = _require_item(caller, kind, item_id)
        changes = {"owner_id": owner_id, "owner_name": _member_name(tenant, owner_id)}
        if shares.update_item(caller.tenant_key, kind, item_id, changes, int(existing.version)):
            item = shares.get_item(caller.tenant_key, kind, item_id)
            _index_members(caller.tenant_key, existing, item)
            fan_out(caller.tenant_key, item)
            logger.info("item reclaimed", extra={"item": f"{kind}/{item_id}", "from": existing.owner_id,
                                                 "to": owner_id})
            return describe(item, caller)
    raise Conflict("the item kept changing; try again", code="item_changed")


def delete_item(caller: Caller, kind: str, item_id: str) -> None:
    """An admin deletes an item: it leaves every sharer's home and lists at once, with its conversations and
    submissions. The item row goes first (conditional on the version read), so no share can start meanwhile; a
    delete interrupted half-way is finished by the next one, which finds the sharers left."""
    require_admin(caller)
    kinds.check_kind(kind)
    kinds.check_item_id(item_id)
    for _ in range(WRITE_ATTEMPTS):
        existing = shares.get_item(caller.tenant_key, kind, item_id)
        if existing is None or shares.delete_item_row(caller.tenant_key, kind, item_id, int(existing.version)):
            break
    else:
        raise Conflict("the item kept changing; try again", code="item_changed")
    _index_members(caller.tenant_key, existing, None)
    left = list(shares.sharers(caller.tenant_key, kind, item_id))
    if existing is None and not left:
        raise item_not_found()
    for sharer in left:
        _remove_sharer(caller, kind, item_id, sharer.contact_id)
    shares.delete_item_partition(caller.tenant_key, kind, item_id)
    logger.info("item deleted", extra={"item": f"{kind}/{item_id}", "sharers": len(left)})


def fan_out(tenant_key: str, item: ItemRow) -> int:
    """Re-render an updated item for every sharer: their feed row, then their home's newest items of the kind.

    An item version is written before its sharers are read, and a share commits only if the item still has the
    version it rendered, so every sharer either is listed here or rendered the new version itself."""
    rendered = render(item)
    touched = 0
    for sharer in shares.sharers(tenant_key, item.kind, item.item_id):
        if shares.rerender(tenant_key, sharer.contact_id, item.kind, sharer, rendered, int(item.version)):
            shares.refresh_latest(tenant_key, sharer.contact_id, item.kind, _card)
            touched += 1
    return touched


def _card(row: shares.FeedRow) -> dict:
    return public(row.item, row.shared_at, card=True)


# --- sharing ------------------------------------------------------------------------------------------------------
def share(caller: Caller, kind: str, item_id: str, contact: Contact) -> tuple[dict, bool]:
    """Make a contact the caller may see a sharer of the item (again: it moves to the top of their feed).
    Returns the share and whether it is new."""
    item = _require_item(caller, kind, item_id)
    _require_maintainer(caller, item)
    for _ in range(WRITE_ATTEMPTS):
        item, previous, has_home = shares.share_state(caller.tenant_key, kind, item_id, contact.contact_id)
        if item is None:
            raise item_not_found()
        if not has_home:
            shares.ensure_home(caller.tenant_key, contact.contact_id)
        sharer = shares.add_share(caller.tenant_key, contact.contact_id, item, render(item), caller.user_id, previous)
        if sharer is not None:
            shares.refresh_latest(caller.tenant_key, contact.contact_id, kind, _card)
            if previous is None:
                audit.record(caller.tenant_key, contact.contact_id, caller.user_id, "item_shared", {},
                             {"item": f"{kind}/{item_id}"})
            return _share_json(sharer, contact), previous is None
    raise Conflict("the item or its sharing kept changing; try again", code="item_changed")


def _share_json(sharer: SharerRow, contact: Contact | None) -> dict:
    return {"contactId": sharer.contact_id, "name": contact.name if contact is not None else None,
            "sharedAt": sharer.shared_at, "sharedBy": sharer.shared_by}


def share_with(caller: Caller, kind: str, item_id: str, contact_id: str) -> tuple[dict, bool]:
    """POST …/shares {contactId}: the contact must be one the caller can see (404 otherwise). A new sharer (共享人) is
    told through the official account (`notification` says whether; sharing again tells nobody)."""
    kinds.check_kind(kind)
    contact = directory.visible_contact(caller, contact_id)
    shared, created = share(caller, kind, item_id, contact)
    item = shares.get_item(caller.tenant_key, kind, item_id) if created else None
    if item is None:  # shared before (or the item deleted this instant): nobody is told again
        notification = {"channel": None, "queued": False, "reason": "already_shared"}
    else:
        notification = queue_wechat(caller.tenant_key, contact, item, first="您被添加为共享人",
                                    what=f"{member_name_or_id(caller)}共享了{kinds.KIND_LABELS[kind]}")
    return {**shared, "notification": notification}, created


def unshare(caller: Caller, kind: str, item_id: str, contact_id: str) -> None:
    """The item disappears from the contact's home and lists at once; 404 when it was not shared with them."""
    item = _require_item(caller, kind, item_id)
    _require_maintainer(caller, item)
    if not _remove_sharer(caller, kind, item_id, contact_id):
        raise NotFound("the item is not shared with this contact", code="share_not_found")


def _remove_sharer(caller: Caller, kind: str, item_id: str, contact_id: str) -> bool:
    """Take the item off one contact's feed, count and newest items; False when it was not shared with them."""
    for _ in range(WRITE_ATTEMPTS):
        _item, current = shares.item_and_sharer(caller.tenant_key, kind, item_id, contact_id)
        if current is None:
            return False
        if shares.remove_share(caller.tenant_key, contact_id, kind, item_id, current):
            shares.refresh_latest(caller.tenant_key, contact_id, kind, _card)
            audit.record(caller.tenant_key, contact_id, caller.user_id, "item_unshared",
                         {"item": f"{kind}/{item_id}"}, {})
            return True
    raise Conflict("the sharing kept changing; try again", code="item_changed")


def list_shares(caller: Caller, kind: str, item_id: str) -> list[dict]:
    """The item's sharers; a contact the caller may not see is listed by id only (name null)."""
    item = _require_item(caller, kind, item_id)
    if not can_open(caller.user_id, item):
        raise Forbidden("only the item's owner and members may see its sharers", code="not_item_member")
    rows = list(shares.sharers(caller.tenant_key, kind, item_id))
    found = contact_store.batch_get(caller.tenant_key, [row.contact_id for row in rows])
    shown = []
    for row in sorted(rows, key=lambda r: r.shared_at, reverse=True):
        contact = found.get(row.contact_id)
        visible = contact is not None and permissions.can_see(caller, contact)
        shown.append(_share_json(row, contact if visible else None))
    return shown


# --- telling the contact -----------------------------------------------------------------------------------------
def member_name_or_id(caller: Caller) -> str:
    member = members.get(caller.tenant_key, caller.user_id)
    return (member.name if member is not None and member.name else caller.user_id)


def home_url(tenant: tenant_store.Tenant, kind: str | None = None, item_id: str | None = None) -> str:
    """The contact's home page, opened at an item (the page's route `#/i/<kind>/<itemId>`) when given."""
    url = link_url(tenant)
    return f"{url}#/i/{quote(kind)}/{quote(item_id)}" if kind and item_id else url


def queue_wechat(tenant_key: str, contact: Contact, item: ItemRow, *, first: str, what: str,
                 remark: str | None = None) -> dict:
    """Tell the contact about the item through the official account (`queueing.notify_contact`: the openid their
    sign-in confirmed, else the follower of their unionid), linking to the item on their home. Says what happened."""
    tenant = tenant_store.get_enabled_recent(tenant_key)
    try:
        url = home_url(tenant, item.kind, item.item_id)
    except PlaceholderBaseUrl:  # a link to nowhere is worse than no message; the item is on their home all the same
        return {"channel": None, "queued": False, "reason": "no_public_url"}
    return queueing.notify_contact(tenant, contact, first=first, title=item.title, what=what, remark=remark, url=url,
                                   key=f"{item.kind}:{item.item_id}")


# --- conversations and submissions --------------------------------------------------------------------------------
def comment_json(row: shares.CommentRow) -> dict:
    return {"commentId": row.sk[len(shares.thread_prefix(row.contact_id)):], "text": row.text,
            "createdAt": row.created_at,
            "author": {"kind": row.author_kind, "id": row.author_id, "name": row.author_name}}


def _thread_contact(caller: Caller, item: ItemRow, contact_id: str) -> SharerRow:
    if not can_open(caller.user_id, item):
        raise Forbidden("only the item's owner and members may talk to its sharers about it", code="not_item_member")
    _item, sharer = shares.item_and_sharer(caller.tenant_key, item.kind, item.item_id, contact_id)
    if sharer is None:
        raise NotFound("the item is not shared with this contact", code="share_not_found")
    return sharer


def reply(caller: Caller, kind: str, item_id: str, body: dict) -> dict:
    """A member answers one contact about an item: the message joins that contact's thread, shows on their home until
    they open the item, and reaches them as a template message when they follow the official account."""
    item = _require_item(caller, kind, item_id)
    contact_id = str(body.get("contactId") or "")
    text = kinds.comment_text(body.get("text"))
    _thread_contact(caller, item, contact_id)
    name = member_name_or_id(caller)
    row = shares.add_comment(caller.tenant_key, kind, item_id, contact_id, author_kind="member",
                             author_id=caller.user_id, author_name=name, text=text)
    shares.add_notice(caller.tenant_key, contact_id, kind, item_id,
                      {"kind": kind, "itemId": item_id, "title": item.title, "text": text[:140], "by": name,
                       "at": row.created_at})
    contact = contact_store.get(caller.tenant_key, contact_id)
    notification = {"channel": None, "queued": False, "reason": "contact_gone"}
    if contact is not None:
        notification = queue_wechat(caller.tenant_key, contact, item, first=f"{name}回复了您", what="新回复",
                                    remark=text[:100])
    return {**comment_json(row), "notification": notification}


def conversation(caller: Caller, kind: str, item_id: str, contact_id: str) -> dict:
    """The newest messages between the company and one sharer about the item (oldest first)."""
    item = _require_item(caller, kind, item_id)
    _thread_contact(caller, item, contact_id)
    rows, more = shares.thread(caller.tenant_key, kind, item_id, contact_id, THREAD_PAGE)
    return {"comments": [comment_json(r) for r in rows], "moreComments": more}


def submissions(caller: Caller, item_id: str, cursor: str | None, limit: int) -> dict:
    """A form's submissions, newest first, for its owner and members with edit permission."""
    item = _require_item(caller, "form", item_id)
    _require_maintainer(caller, item)
    scope = f"submissions:{caller.tenant_key}:{item_id}"
    after = cursors.decode_one(cursor, "submission#", scope=scope)
    rows, more = shares.submissions_page(caller.tenant_key, item_id, limit, after)
    return {
        "submissions": [{"submissionId": r.sk.split("#", 1)[1], "contactId": r.contact_id,
                         "contactName": r.contact_name, "values": shares.plain(r.values),
                         "submittedAt": r.created_at} for r in rows],
        "nextCursor": cursors.encode_one(rows[-1].sk, scope=scope) if more and rows else None,
    }


def notify_owner(tenant_key: str, item: ItemRow, *, title: str, description: str,
                 extra: Iterable[str] = ()) -> None:
    """Tell the item's owner (and `extra` members) about something a contact did, by WeCom app text card."""
    tenant = tenant_store.get_enabled_recent(tenant_key)
    queueing.notify_members(tenant_key, [item.owner_id, *extra], title=title, description=description,
                                 url=item.url or home_url(tenant))
