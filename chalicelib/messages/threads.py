"""A contact's 对接人 and the message thread of each (contact, member) pair.

Who talks with whom:
- A contact's 对接人 are the members who may see them by the directory's rules and are named on the contact — its
  adder, visible members, share list and (WeCom customers) the members following it —, the members who shared items
  with them, and any member who wrote to them (a maintainer may). Members who left are not listed. A contact writes
  only to their 对接人; anyone else, or an id of another tenant, is 404 `liaison_not_found`.
- A member writes to and reads the thread of a contact they may see (`directory.contacts.visible_contact`): anyone
  else is 404 `contact_not_found`, as everywhere in the directory.
Each message tells the other side: a contact's message reaches the member as a WeCom app card linking to the thread in
the workspace, a member's reaches the contact by the official account's template message (the sharing path) linking
to the thread on their home — and shows there as unread. Both sides are rate-limited per thread and per sender
(`accounts.throttle.take_rate`: 429 `too_many_messages` with Retry-After), so nobody can flood the other through
WeCom or WeChat.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from chalicelib.accounts import throttle
from chalicelib.accounts.service import ContactCaller
from chalicelib.auth.identity import Caller
from chalicelib.core import cursors
from chalicelib.core.errors import NotFound
from chalicelib.core.observability import logger
from chalicelib.directory import contacts as directory
from chalicelib.directory import permissions
from chalicelib.directory.validation import check_fields, text as text_field
from chalicelib.notifications import queueing
from chalicelib.profile_links.link import PlaceholderBaseUrl
from chalicelib.sharing import items
from chalicelib.sharing.kinds import USER_ID
from chalicelib.store import contacts as contact_store
from chalicelib.store import members as member_store
from chalicelib.store import messages as store
from chalicelib.store import roles as role_store
from chalicelib.store import shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact
from chalicelib.tenants.members import known_member
from chalicelib.tenants.urls import public_url
from chalicelib.wecom.errors import WeComError

MAX_TEXT = 1000
PAGE_DEFAULT, PAGE_MAX = 20, 50
INBOX_DEFAULT, INBOX_MAX = 20, 50
PER_THREAD = (10, 10 * 60)  # a sender's messages in one thread: 10 per 10 minutes
PER_SENDER = {store.CONTACT: (30, 60 * 60), store.MEMBER: (100, 60 * 60)}  # a sender's messages in all threads
# Why a member is one of the contact's 对接人, in the order the page shows them.
ROLES = ("adder", "visible", "share_list", "follower", "sharer", "thread")


def liaison_not_found() -> NotFound:
    return NotFound("this member is not one of your contact persons", code="liaison_not_found")


@dataclass
class Liaison:
    user_id: str
    roles: set[str] = field(default_factory=set)
    name: str | None = None
    thread: store.Thread | None = None


def _text(body: dict) -> str:
    check_fields(body, ("text",))
    return text_field("text", body.get("text"), limit=MAX_TEXT, required=True)


def _limit(sender_kind: str, sender_id: str, contact_id: str, user_id: str, tenant_key: str) -> None:
    """Take the message's place in both windows, or refuse it (429)."""
    message = "too many messages; wait before sending more"
    per_thread, seconds = PER_THREAD
    throttle.take_rate(tenant_key, f"msg#{sender_kind}#{contact_id}#{user_id}", per_thread, seconds,
                       message=message, code="too_many_messages")
    per_sender, seconds = PER_SENDER[sender_kind]
    throttle.take_rate(tenant_key, f"msg#{sender_kind}#{sender_id}", per_sender, seconds,
                       message=message, code="too_many_messages")


def _message_json(row: store.Message, names: dict[str, str | None]) -> dict:
    return {"messageId": row.sk[len(store.MESSAGE_PREFIX):], "text": row.text, "createdAt": row.created_at,
            "author": {"kind": row.author_kind, "id": row.author_id, "name": names.get(row.author_kind)}}


def _thread_json(thread: store.Thread | None, reader_kind: str) -> dict | None:
    if thread is None:
        return None
    unread = thread.member_unread if reader_kind == store.MEMBER else thread.contact_unread
    return {"lastAt": thread.last_at, "lastText": thread.last_text, "lastAuthor": thread.last_author,
            "unread": int(unread or 0)}


def _page(tenant_key: str, contact_id: str, user_id: str, cursor: str | None, limit: int,
          names: dict[str, str | None]) -> dict:
    """One page of the thread, oldest first on the page; `nextCursor` continues with older messages."""
    scope = f"messages:{tenant_key}:{contact_id}:{user_id}"
    before = cursors.decode_one(cursor, store.MESSAGE_PREFIX, scope=scope)
    rows, more = store.messages_page(tenant_key, contact_id, user_id, limit, before)
    return {"messages": [_message_json(row, names) for row in reversed(rows)],
            "nextCursor": cursors.encode_one(rows[-1].sk, scope=scope) if more and rows else None}


# --- the contact's side ---------------------------------------------------------------------------------------------
def liaisons_of(contact: Contact) -> dict[str, Liaison]:
    """The contact's 对接人 by userid, with why each is one, their names and the thread with them (if any)."""
    tenant_key = contact.tenant_key
    found: dict[str, Liaison] = {}

    def add(user_ids, role: str) -> None:
        for user_id in user_ids:
            if user_id and USER_ID.match(user_id):
                found.setdefault(user_id, Liaison(user_id)).roles.add(role)

    add([contact.adder_id], "adder")
    add(contact.visible_members or (), "visible")
    add(contact_store.raw_map(contact.share_list), "share_list")
    add(contact_store.follower_ids(contact), "follower")
    add(shares.sharers_of_contact(tenant_key, contact.contact_id), "sharer")
    threads = {thread.user_id: thread for thread in store.threads_of_contact(tenant_key, contact.contact_id)}
    add(threads, "thread")
    recorded = member_store.get_many(tenant_key, list(found))
    for user_id in list(found):
        member = recorded.get(user_id)
        if member is None or not member.name:
            member = _ask_wecom(tenant_key, user_id)
        if (member is not None and member.status != member_store.ACTIVE) or not _still_sees(contact, found[user_id]):
            del found[user_id]
            continue
        found[user_id].name = member.name if member is not None else None
        found[user_id].thread = threads.get(user_id)
    return found


def _still_sees(contact: Contact, liaison: Liaison) -> bool:
    """A member listed only because they wrote (a maintainer, say) stays a 对接人 while they may see the contact."""
    if liaison.roles != {"thread"}:
        return True
    caller = Caller(contact.tenant_key, liaison.user_id, role_store.roles_of(contact.tenant_key, liaison.user_id))
    return permissions.can_see(caller, contact)


def _ask_wecom(tenant_key: str, user_id: str) -> member_store.Member | None:
    """A member Yunqiao has not recorded yet (a follower who never signed in): WeCom is asked once and the answer
    recorded. One who left is answered as gone; when WeCom cannot answer now, the member is listed by userid."""
    try:
        member = known_member(tenant_store.get_enabled_recent(tenant_key), user_id)
    except WeComError:
        logger.warning("could not ask WeCom for a member's name", extra={"userId": user_id})
        return None
    return member if member is not None else member_store.Member(tenant_key, user_id, status=member_store.GONE)


def liaisons(caller: ContactCaller) -> dict:
    """GET /api/external/liaisons: the caller's 对接人, the latest conversation first, then by name."""
    found = liaisons_of(caller.contact)
    ordered = sorted(found.values(), key=lambda each: (each.name or each.user_id))
    ordered.sort(key=lambda each: each.thread.last_at if each.thread is not None else "", reverse=True)
    return {"liaisons": [{"userId": each.user_id, "name": each.name or each.user_id,
                          "roles": [role for role in ROLES if role in each.roles],
                          "thread": _thread_json(each.thread, store.CONTACT)} for each in ordered]}


def _liaison(caller: ContactCaller, user_id: str) -> Liaison:
    found = liaisons_of(caller.contact).get(user_id) if isinstance(user_id, str) else None
    if found is None:
        raise liaison_not_found()
    return found


def contact_thread(caller: ContactCaller, user_id: str, cursor: str | None, limit: int) -> dict:
    """GET /api/external/liaisons/{userId}/messages: the thread with one 对接人; the first page marks it read."""
    liaison = _liaison(caller, user_id)
    names = {store.CONTACT: caller.contact.name, store.MEMBER: liaison.name or user_id}
    page = _page(caller.tenant_key, caller.contact_id, user_id, cursor, limit, names)
    if cursor is None:
        store.mark_read(caller.tenant_key, caller.contact_id, user_id, store.CONTACT)
    return {"liaison": {"userId": user_id, "name": liaison.name or user_id}, **page}


def thread_url(tenant: tenant_store.Tenant, contact_id: str) -> str:
    """The thread with a contact in the members' workspace."""
    return public_url(tenant, f"/directory/messages/{quote(contact_id, safe='')}?tenantKey={quote(tenant.tenant_key)}")


def from_contact(caller: ContactCaller, user_id: str, body: dict) -> dict:
    """POST /api/external/liaisons/{userId}/messages: the contact writes to one of their 对接人, who gets a WeCom card
    linking to the thread."""
    text = _text(body)
    liaison = _liaison(caller, user_id)
    _limit(store.CONTACT, caller.contact_id, caller.contact_id, user_id, caller.tenant_key)
    row = store.add(caller.tenant_key, caller.contact_id, user_id, store.CONTACT, caller.contact_id, text)
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    name = caller.contact.name or "外部联系人"
    failure = queueing.notify_members(caller.tenant_key, [user_id], title=f"{name} 给您发来消息", description=text[:200],
                                      url=thread_url(tenant, caller.contact_id))
    notification = ({"channel": queueing.WECOM_APP, "queued": True} if failure is None
                    else {"channel": queueing.WECOM_APP, "queued": False, "reason": "queue_error"})
    names = {store.CONTACT: caller.contact.name, store.MEMBER: liaison.name or user_id}
    return {**_message_json(row, names), "notification": notification}


# --- the member's side ----------------------------------------------------------------------------------------------
def _member_name(tenant_key: str, user_id: str) -> str:
    member = member_store.get(tenant_key, user_id)
    return member.name if member is not None and member.name else user_id


def member_thread(caller: Caller, contact_id: str, cursor: str | None, limit: int) -> dict:
    """GET /api/directory/contacts/{contactId}/messages: the caller's thread with a contact they may see; the first
    page marks it read."""
    contact = directory.visible_contact(caller, contact_id)
    names = {store.CONTACT: contact.name, store.MEMBER: _member_name(caller.tenant_key, caller.user_id)}
    page = _page(caller.tenant_key, contact.contact_id, caller.user_id, cursor, limit, names)
    if cursor is None:
        store.mark_read(caller.tenant_key, contact.contact_id, caller.user_id, store.MEMBER)
    return {"contact": {"contactId": contact.contact_id, "name": contact.name}, **page}


def contact_home_url(tenant: tenant_store.Tenant, user_id: str) -> str:
    """The thread with a member on the contact's home (the page's route `#/m/<userId>`)."""
    return f"{items.home_url(tenant)}#/m/{quote(user_id, safe='')}"


def from_member(caller: Caller, contact_id: str, body: dict) -> dict:
    """POST /api/directory/contacts/{contactId}/messages: the caller writes to a contact they may see; the contact is
    told by the official account when it can reach them, and sees it on their home in any case."""
    text = _text(body)
    contact = directory.visible_contact(caller, contact_id)
    _limit(store.MEMBER, caller.user_id, contact.contact_id, caller.user_id, caller.tenant_key)
    row = store.add(caller.tenant_key, contact.contact_id, caller.user_id, store.MEMBER, caller.user_id, text)
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    name = _member_name(caller.tenant_key, caller.user_id)
    try:
        url = contact_home_url(tenant, caller.user_id)
    except PlaceholderBaseUrl:  # no message rather than a link to nowhere; the reply is on their home all the same
        notification = {"channel": None, "queued": False, "reason": "no_public_url"}
    else:
        notification = queueing.notify_contact(
            tenant, contact, first=f"{name}给您发来消息", title=f"与{name}的消息", what="新消息",
            remark=text[:100], url=url, key=f"message:{caller.user_id}")
    return {**_message_json(row, {store.CONTACT: contact.name, store.MEMBER: name}), "notification": notification}


def inbox(caller: Caller, cursor: str | None, limit: int) -> dict:
    """GET /api/messages/threads: the caller's threads, the latest message first, with what they have not read.
    A thread with a contact the caller may no longer see is left out (its page would be 404)."""
    fixed = {"memberKey": store.member_key(caller.tenant_key, caller.user_id)}
    scope = f"inbox:{caller.tenant_key}:{caller.user_id}"
    start = cursors.decode(cursor, fixed, ("lastAt", "pk", "sk"), scope=scope)
    rows, more = store.threads_of_member(caller.tenant_key, caller.user_id, limit, start)
    found = contact_store.batch_get(caller.tenant_key, [row.contact_id for row in rows])
    shown = []
    for row in rows:
        contact = found.get(row.contact_id)
        if contact is not None and permissions.can_see(caller, contact):
            shown.append({"contactId": row.contact_id, "name": contact.name, **_thread_json(row, store.MEMBER)})
    return {"threads": shown,
            "nextCursor": cursors.encode(store.index_key(rows[-1]), scope=scope) if more and rows else None}
