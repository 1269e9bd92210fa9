"""The shares table: items shared with external contacts, each contact's feed and home summary, comment threads,
form submissions and chat bindings — one table, two kinds of partition, rows told apart by `rowType`.

Item partition `<tenantKey>#i#<kind>#<itemId>`:
- `item`                              the registered item (title, summary, status, owner, URL, form, ...), `version`
- `sharer#<contactId>`                the contact is a sharer (共享人): when, by whom, and where its feed row is
- `comment#<contactId>#<at>#<rand>`   one message of the thread between the company and that contact
- `submission#<at>#<rand>`            a contact's submission of a shared form
Contact partition `<tenantKey>#c#<contactId>`:
- `home`                              the home summary: counts, the 3 newest per kind (rendered), `rev` per kind,
                                      notices (member replies not read yet), the contact's name and WeChat openid
- `f#<kind>#<sharedAt>#<itemId>`      a feed row: the item as the contact sees it, newest first per kind
- `binding`                           the projects and CRM customer members bound the chat's contact to
Member partition `<tenantKey>#m#<userId>`:
- `<kind>#<itemId>`                   the member is the item's owner or one of its internal members: the chat
                                      toolbar's 本人的项目. A hint kept after every item write; readers check the item.

Fan-out on write keeps reads flat: the home is one GetItem of `home`, a list page one Query on `f#<kind>#`,
whatever the number of items in the tenant. Sharing, unsharing and re-rendering write a few rows per sharer.
"""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import clock
from chalicelib.store.base import (
    TableModel,
    conditional_save,
    conditional_update,
    connection,
    table_meta,
    transact,
)

ITEM_SK, HOME_SK, BINDING_SK = "item", "home", "binding"
LATEST_PER_KIND = 3
REFRESH_ATTEMPTS = 8


def stamp(at: datetime | None = None) -> str:
    """A fixed-width UTC timestamp with microseconds: sorts as text in time order, reads as ISO 8601."""
    return (at or clock.utcnow()).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def item_pk(tenant_key: str, kind: str, item_id: str) -> str:
    return f"{tenant_key}#i#{kind}#{item_id}"


def member_pk(tenant_key: str, user_id: str) -> str:
    return f"{tenant_key}#m#{user_id}"


def contact_pk(tenant_key: str, contact_id: str) -> str:
    return f"{tenant_key}#c#{contact_id}"


def sharer_sk(contact_id: str) -> str:
    return f"sharer#{contact_id}"


def feed_prefix(kind: str) -> str:
    return f"f#{kind}#"


def feed_sk(kind: str, shared_at: str, item_id: str) -> str:
    return f"{feed_prefix(kind)}{shared_at}#{item_id}"


def thread_prefix(contact_id: str) -> str:
    return f"comment#{contact_id}#"


def _suffix() -> str:
    return secrets.token_hex(4)


class ShareRow(TableModel):
    """Every row of the table; `rowType` says which of the classes below it is."""

    Meta = table_meta("shares")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    row_type = DiscriminatorAttribute(attr_name="rowType")


class ItemRow(ShareRow, discriminator="item"):
    kind = UnicodeAttribute()
    item_id = UnicodeAttribute(attr_name="itemId")
    title = UnicodeAttribute()
    summary = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    owner_id = UnicodeAttribute(attr_name="ownerId")
    owner_name = UnicodeAttribute(null=True, attr_name="ownerName")
    updated_at = UnicodeAttribute(attr_name="updatedAt")  # the item's own update time, as its module says
    form = MapAttribute(null=True)  # {"fields": [...]} for forms and form records
    values = MapAttribute(null=True)  # a form record's values
    members = MapAttribute(default=dict)  # internal members it is shared with: userid -> "view" | "edit"
    version = NumberAttribute(default=1)
    registered_by = UnicodeAttribute(attr_name="registeredBy")
    registered_at = UnicodeAttribute(attr_name="registeredAt")


class SharerRow(ShareRow, discriminator="sharer"):
    contact_id = UnicodeAttribute(attr_name="contactId")
    shared_at = UnicodeAttribute(attr_name="sharedAt")
    shared_by = UnicodeAttribute(attr_name="sharedBy")
    feed_sk = UnicodeAttribute(attr_name="feedSk")
    unread = NumberAttribute(default=0)  # member replies the contact has not opened the item since


class FeedRow(ShareRow, discriminator="feed"):
    kind = UnicodeAttribute()
    item_id = UnicodeAttribute(attr_name="itemId")
    shared_at = UnicodeAttribute(attr_name="sharedAt")
    item = MapAttribute()  # the item as the contact sees it (rendered once, at write time)
    item_version = NumberAttribute(attr_name="itemVersion")
    shared_by = UnicodeAttribute(null=True, attr_name="sharedBy")  # the member who shared it (rows of old shares: none)


class HomeRow(ShareRow, discriminator="home"):
    counts = MapAttribute(default=dict)  # kind -> number of items shared
    latest = MapAttribute(default=dict)  # kind -> [rendered item cards], newest first, at most LATEST_PER_KIND
    rev = MapAttribute(default=dict)  # kind -> bumped by every change to the kind's feed rows
    notices = MapAttribute(default=dict)  # "<kind>#<itemId>" -> a member's reply not read yet
    openid = UnicodeAttribute(null=True)  # under the tenant's official account, learned at WeChat sign-in


class BindingRow(ShareRow, discriminator="binding"):
    project_ids = ListAttribute(of=UnicodeAttribute, default=list, attr_name="projectIds")
    crm_customer_id = UnicodeAttribute(null=True, attr_name="crmCustomerId")
    bound_by = UnicodeAttribute(attr_name="boundBy")
    bound_at = UnicodeAttribute(attr_name="boundAt")


class MemberItemRow(ShareRow, discriminator="member_item"):
    kind = UnicodeAttribute()
    item_id = UnicodeAttribute(attr_name="itemId")


class CommentRow(ShareRow, discriminator="comment"):
    contact_id = UnicodeAttribute(attr_name="contactId")
    author_kind = UnicodeAttribute(attr_name="authorKind")  # "contact" | "member"
    author_id = UnicodeAttribute(attr_name="authorId")
    author_name = UnicodeAttribute(null=True, attr_name="authorName")
    text = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


class SubmissionRow(ShareRow, discriminator="submission"):
    contact_id = UnicodeAttribute(attr_name="contactId")
    contact_name = UnicodeAttribute(null=True, attr_name="contactName")
    values = MapAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


def plain(value: Any) -> Any:
    """A raw MapAttribute/ListAttribute value as plain dicts and lists (numbers as int when whole)."""
    if value is None:
        return None
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- reads --------------------------------------------------------------------------------------------------------
def _key_names(model: type[Model]) -> tuple[str, str | None]:
    attributes = model.get_attributes().values()
    return (next(a.attr_name for a in attributes if a.is_hash_key),
            next((a.attr_name for a in attributes if a.is_range_key), None))


def get_many(keys: list[tuple[type[Model], str, str | None]]) -> list[Model | None]:
    """Items of several tables in one BatchGetItem (consistent reads), in the order asked; None for a missing one.
    A table without a range key is asked with None as the range key.

    This is what keeps the external home at two requests: its session first, then the contact, its account and its
    home summary together (and the tenant, when the process has not read it within the minute)."""
    names = {model.Meta.table_name: _key_names(model) for model, _, _ in keys}
    request: dict[str, dict] = {}
    for model, hash_key, range_key in keys:
        hash_name, range_name = names[model.Meta.table_name]
        entry = request.setdefault(model.Meta.table_name, {"Keys": [], "ConsistentRead": True})
        key = {hash_name: {"S": hash_key}}
        if range_name is not None:
            key[range_name] = {"S": range_key}
        entry["Keys"].append(key)
    found: dict[tuple[str, str, str], dict] = {}
    for attempt in range(REFRESH_ATTEMPTS):
        answer = connection().client.batch_get_item(RequestItems=request)
        for table, rows in answer.get("Responses", {}).items():
            hash_name, range_name = names[table]
            for row in rows:
                found[(table, row[hash_name]["S"], row[range_name]["S"] if range_name else None)] = row
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
        time.sleep(0.05 * 2 ** attempt)  # DynamoDB throttled part of the batch: back off, ask for the rest
    else:
        raise RuntimeError("DynamoDB kept some keys of a batch unprocessed")
    return [model.from_raw_data(found[(model.Meta.table_name, hash_key, range_key)])
            if (model.Meta.table_name, hash_key, range_key) in found else None
            for model, hash_key, range_key in keys]


def get_item(tenant_key: str, kind: str, item_id: str) -> ItemRow | None:
    try:
        return ItemRow.get(item_pk(tenant_key, kind, item_id), ITEM_SK, consistent_read=True)
    except DoesNotExist:
        return None


def get_home(tenant_key: str, contact_id: str) -> HomeRow | None:
    try:
        return HomeRow.get(contact_pk(tenant_key, contact_id), HOME_SK, consistent_read=True)
    except DoesNotExist:
        return None


def get_binding(tenant_key: str, contact_id: str) -> BindingRow | None:
    try:
        return BindingRow.get(contact_pk(tenant_key, contact_id), BINDING_SK, consistent_read=True)
    except DoesNotExist:
        return None


def share_state(tenant_key: str, kind: str, item_id: str,
                contact_id: str) -> tuple[ItemRow | None, SharerRow | None, bool]:
    """What sharing needs to know, in one BatchGetItem: the item, the contact's sharer row, whether the contact has a
    home summary yet."""
    pk, home_pk = item_pk(tenant_key, kind, item_id), contact_pk(tenant_key, contact_id)
    rows = list(ShareRow.batch_get([(pk, ITEM_SK), (pk, sharer_sk(contact_id)), (home_pk, HOME_SK)],
                                   consistent_read=True))
    item = next((row for row in rows if isinstance(row, ItemRow)), None)
    sharer = next((row for row in rows if isinstance(row, SharerRow)), None)
    return item, sharer, any(isinstance(row, HomeRow) for row in rows)


def item_and_sharer(tenant_key: str, kind: str, item_id: str,
                    contact_id: str) -> tuple[ItemRow | None, SharerRow | None]:
    """The item and the contact's sharer row, in one BatchGetItem: the access check of every contact route."""
    pk = item_pk(tenant_key, kind, item_id)
    keys = [(pk, ITEM_SK), (pk, sharer_sk(contact_id))]
    found: dict[str, ShareRow] = {row.sk: row for row in ShareRow.batch_get(keys, consistent_read=True)}
    item, sharer = found.get(ITEM_SK), found.get(sharer_sk(contact_id))
    return (item if isinstance(item, ItemRow) else None), (sharer if isinstance(sharer, SharerRow) else None)


def items(tenant_key: str, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ItemRow]:
    """Registered items by (kind, itemId), in BatchGetItem requests of 100 keys."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], ItemRow] = {}
    for start in range(0, len(wanted), 100):
        chunk = [(item_pk(tenant_key, kind, item_id), ITEM_SK) for kind, item_id in wanted[start:start + 100]]
        for row in ItemRow.batch_get(chunk, consistent_read=True):
            found[(row.kind, row.item_id)] = row
    return found


def sharers(tenant_key: str, kind: str, item_id: str) -> Iterator[SharerRow]:
    """Every sharer of an item (a Query on the item partition)."""
    return SharerRow.query(item_pk(tenant_key, kind, item_id), SharerRow.sk.startswith("sharer#"),
                           consistent_read=True)


def feed_page(tenant_key: str, contact_id: str, kind: str, limit: int, after: str | None) -> tuple[list[FeedRow], bool]:
    """One page of a contact's items of one kind, newest shared first (one Query); True when more follow."""
    query = FeedRow.query(
        contact_pk(tenant_key, contact_id),
        FeedRow.sk.startswith(feed_prefix(kind)),
        scan_index_forward=False,
        consistent_read=True,
        limit=limit + 1,
        page_size=limit + 1,
        last_evaluated_key={"pk": {"S": contact_pk(tenant_key, contact_id)}, "sk": {"S": after}} if after else None,
    )
    rows = list(query)
    return rows[:limit], len(rows) > limit


def sharers_of_contact(tenant_key: str, contact_id: str) -> set[str]:
    """The members who shared the items a contact has (the `sharedBy` of their feed rows: one Query of the contact's
    partition, keys and that attribute only; a row written before feed rows carried it is answered by its sharer
    row, in BatchGetItem requests)."""
    found: set[str] = set()
    older: list[tuple[str, str]] = []
    for raw in FeedRow.query(contact_pk(tenant_key, contact_id), FeedRow.sk.startswith("f#"), consistent_read=True,
                             attributes_to_get=["pk", "sk", "rowType", "kind", "itemId", "sharedBy"]):
        if raw.shared_by:
            found.add(raw.shared_by)
        else:
            older.append((item_pk(tenant_key, raw.kind, raw.item_id), sharer_sk(contact_id)))
    for start in range(0, len(older), 100):
        found.update(row.shared_by for row in ShareRow.batch_get(older[start:start + 100], consistent_read=True)
                     if isinstance(row, SharerRow))
    return found


def thread(tenant_key: str, kind: str, item_id: str, contact_id: str, limit: int) -> tuple[list[CommentRow], bool]:
    """The newest `limit` messages between the company and one contact about an item, oldest first."""
    prefix = CommentRow.sk.startswith(thread_prefix(contact_id))
    rows = list(CommentRow.query(item_pk(tenant_key, kind, item_id), prefix, scan_index_forward=False,
                                 consistent_read=True, limit=limit + 1, page_size=limit + 1))
    return list(reversed(rows[:limit])), len(rows) > limit


def submissions_page(tenant_key: str, item_id: str, limit: int, after: str | None) -> tuple[list[SubmissionRow], bool]:
    pk = item_pk(tenant_key, "form", item_id)
    rows = list(SubmissionRow.query(pk, SubmissionRow.sk.startswith("submission#"), scan_index_forward=False,
                                    consistent_read=True, limit=limit + 1, page_size=limit + 1,
                                    last_evaluated_key={"pk": {"S": pk}, "sk": {"S": after}} if after else None))
    return rows[:limit], len(rows) > limit


# --- items --------------------------------------------------------------------------------------------------------
def create_item(row: ItemRow) -> bool:
    """Store a new item; False when it exists already (a concurrent registration)."""
    return conditional_save(row, ItemRow.pk.does_not_exist())


def update_item(tenant_key: str, kind: str, item_id: str, fields: dict[str, Any], expected_version: int) -> bool:
    """Replace the item's fields and bump its version, if nobody changed it since `expected_version` was read."""
    row = ItemRow(item_pk(tenant_key, kind, item_id), ITEM_SK)
    actions = [getattr(ItemRow, name).set(value) if value is not None else getattr(ItemRow, name).remove()
               for name, value in fields.items()]
    actions.append(ItemRow.version.set(expected_version + 1))
    return conditional_update(row, actions, ItemRow.version == expected_version)


def delete_item_row(tenant_key: str, kind: str, item_id: str, expected_version: int) -> bool:
    """Delete the item's own row if nobody changed it since `expected_version` was read. Sharing checks the item's
    version in its transaction, so no share commits once this row is gone."""
    try:
        ItemRow(item_pk(tenant_key, kind, item_id), ITEM_SK).delete(condition=ItemRow.version == expected_version)
    except DeleteError as err:
        if err.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete_item_partition(tenant_key: str, kind: str, item_id: str) -> None:
    """Delete what is left under a deleted item (its conversations and a form's submissions), once its sharers were
    taken off their homes one by one."""
    rows = ShareRow.query(item_pk(tenant_key, kind, item_id), consistent_read=True)
    with ShareRow.batch_write() as batch:
        for row in rows:
            batch.delete(row)


# --- the home summary ---------------------------------------------------------------------------------------------
def ensure_home(tenant_key: str, contact_id: str) -> None:
    """Create the contact's home summary with its (empty) maps, so later writes can update entries inside them."""
    empty = HomeRow(contact_pk(tenant_key, contact_id), HOME_SK, counts={}, latest={}, rev={}, notices={})
    conditional_save(empty, HomeRow.pk.does_not_exist())


def _bump(kind: str, count: int = 0) -> list:
    actions = [HomeRow.rev[kind].set((HomeRow.rev[kind] | 0) + 1)]
    if count:
        actions.append(HomeRow.counts[kind].set((HomeRow.counts[kind] | 0) + count))
    return actions


def refresh_latest(tenant_key: str, contact_id: str, kind: str, card: Any) -> None:
    """Rewrite the home's newest items of one kind from the feed.

    Every change to a kind's feed rows bumps `rev[kind]` and then calls this; the write is conditional on the rev it
    read, so a refresh that read the feed before a later change can never overwrite that change's own refresh.
    `card(feed_row)` renders what the home shows of an item.
    """
    pk = contact_pk(tenant_key, contact_id)
    for _ in range(REFRESH_ATTEMPTS):
        home = get_home(tenant_key, contact_id)
        if home is None:
            return
        seen = plain(home.rev).get(kind)
        rows, _more = feed_page(tenant_key, contact_id, kind, LATEST_PER_KIND, None)
        condition = HomeRow.rev[kind] == seen if seen is not None else HomeRow.rev[kind].does_not_exist()
        if conditional_update(HomeRow(pk, HOME_SK), [HomeRow.latest[kind].set([card(row) for row in rows])],
                              HomeRow.pk.exists() & condition):
            return
    raise RuntimeError(f"home of {contact_id} kept changing while its {kind} items were refreshed")


# --- sharing ------------------------------------------------------------------------------------------------------
def add_share(tenant_key: str, contact_id: str, item: ItemRow, rendered: dict, shared_by: str,
              previous: SharerRow | None) -> SharerRow | None:
    """Make the contact a sharer of the item (or, when `previous` is its current sharer row, share it again: the item
    moves to the top of the contact's feed). One transaction writes the sharer row, the feed row and the home's
    count, conditional on the item's version being the one rendered and on the sharer row being as read; None when
    one of those conditions failed or another transaction held one of the rows (the caller reads again and
    retries)."""
    shared_at = stamp()
    key = feed_sk(item.kind, shared_at, item.item_id)
    home_pk = contact_pk(tenant_key, contact_id)
    sharer = SharerRow(item.pk, sharer_sk(contact_id), contact_id=contact_id, shared_at=shared_at,
                       shared_by=shared_by, feed_sk=key, unread=previous.unread if previous else 0)
    feed = FeedRow(home_pk, key, kind=item.kind, item_id=item.item_id, shared_at=shared_at, item=rendered,
                   item_version=item.version, shared_by=shared_by)

    def build(tx: TransactWrite) -> None:
        tx.condition_check(ItemRow, item.pk, ITEM_SK, condition=ItemRow.version == item.version)
        if previous is None:
            tx.save(sharer, condition=SharerRow.sk.does_not_exist())
        else:
            tx.save(sharer, condition=SharerRow.feed_sk == previous.feed_sk)
            tx.delete(FeedRow(home_pk, previous.feed_sk))
        tx.save(feed)
        tx.update(HomeRow(home_pk, HOME_SK), actions=_bump(item.kind, 0 if previous else 1),
                  condition=HomeRow.pk.exists())

    return sharer if transact(build).committed else None


def remove_share(tenant_key: str, contact_id: str, kind: str, item_id: str, current: SharerRow) -> bool:
    """Stop sharing: the sharer row, the feed row, the count and any notice go together; False when the sharer row
    changed meanwhile (or another transaction held one of the rows)."""
    home_pk = contact_pk(tenant_key, contact_id)
    return transact(lambda tx: (
        tx.delete(SharerRow(current.pk, current.sk), condition=SharerRow.feed_sk == current.feed_sk),
        tx.delete(FeedRow(home_pk, current.feed_sk)),
        tx.update(HomeRow(home_pk, HOME_SK),
                  actions=_bump(kind, -1) + [HomeRow.notices[f"{kind}#{item_id}"].remove()],
                  condition=HomeRow.pk.exists()),
    )).committed


def rerender(tenant_key: str, contact_id: str, kind: str, sharer: SharerRow, rendered: dict, version: int) -> bool:
    """Put the item's new rendering in one sharer's feed row (never an older version over a newer one)."""
    home_pk = contact_pk(tenant_key, contact_id)
    return transact(lambda tx: (
        tx.update(FeedRow(home_pk, sharer.feed_sk),
                  actions=[FeedRow.item.set(rendered), FeedRow.item_version.set(version)],
                  condition=FeedRow.sk.exists() & (FeedRow.item_version < version)),
        tx.update(HomeRow(home_pk, HOME_SK), actions=_bump(kind), condition=HomeRow.pk.exists()),
    )).committed


# --- comments, notices, submissions, bindings ---------------------------------------------------------------------
def add_comment(tenant_key: str, kind: str, item_id: str, contact_id: str, *, author_kind: str, author_id: str,
                author_name: str | None, text: str) -> CommentRow:
    created = stamp()
    row = CommentRow(item_pk(tenant_key, kind, item_id), f"{thread_prefix(contact_id)}{created}#{_suffix()}",
                     contact_id=contact_id, author_kind=author_kind, author_id=author_id, author_name=author_name,
                     text=text, created_at=created)
    row.save()
    return row


def add_notice(tenant_key: str, contact_id: str, kind: str, item_id: str, notice: dict) -> bool:
    """Show a member's reply on the contact's home until they open the item; False when the item is no longer
    shared with them (the sharer row is gone)."""
    return transact(lambda tx: (
        tx.update(SharerRow(item_pk(tenant_key, kind, item_id), sharer_sk(contact_id)),
                  actions=[SharerRow.unread.set((SharerRow.unread | 0) + 1)], condition=SharerRow.sk.exists()),
        tx.update(HomeRow(contact_pk(tenant_key, contact_id), HOME_SK),
                  actions=[HomeRow.notices[f"{kind}#{item_id}"].set(notice)], condition=HomeRow.pk.exists()),
    )).committed


def clear_notice(tenant_key: str, contact_id: str, kind: str, item_id: str) -> None:
    """The contact opened the item: its replies are read (nothing is left to mark when it was unshared meanwhile)."""
    transact(lambda tx: (
        tx.update(SharerRow(item_pk(tenant_key, kind, item_id), sharer_sk(contact_id)),
                  actions=[SharerRow.unread.set(0)], condition=SharerRow.sk.exists()),
        tx.update(HomeRow(contact_pk(tenant_key, contact_id), HOME_SK),
                  actions=[HomeRow.notices[f"{kind}#{item_id}"].remove()], condition=HomeRow.pk.exists()),
    ))


def add_submission(tenant_key: str, item_id: str, contact_id: str, contact_name: str | None,
                   values: dict) -> SubmissionRow:
    created = stamp()
    row = SubmissionRow(item_pk(tenant_key, "form", item_id), f"submission#{created}#{_suffix()}",
                        contact_id=contact_id, contact_name=contact_name, values=values, created_at=created)
    row.save()
    return row


def put_binding(tenant_key: str, contact_id: str, project_ids: list[str], crm_customer_id: str | None,
                bound_by: str) -> BindingRow:
    row = BindingRow(contact_pk(tenant_key, contact_id), BINDING_SK, project_ids=project_ids,
                     crm_customer_id=crm_customer_id, bound_by=bound_by, bound_at=stamp())
    row.save()
    return row


def remember_openid(tenant_key: str, contact_id: str, openid: str) -> None:
    """The contact's openid under the tenant's official account (how template messages reach them)."""
    ensure_home(tenant_key, contact_id)
    HomeRow(contact_pk(tenant_key, contact_id), HOME_SK).update(actions=[HomeRow.openid.set(openid)])


def forget_openid(tenant_key: str, contact_id: str) -> None:
    """The contact unbound their WeChat: template messages stop reaching it."""
    ensure_home(tenant_key, contact_id)
    HomeRow(contact_pk(tenant_key, contact_id), HOME_SK).update(actions=[HomeRow.openid.remove()])


# --- the members' own items (the toolbar's 本人的项目) --------------------------------------------------------------
def index_member_items(tenant_key: str, kind: str, item_id: str, add: Iterable[str], remove: Iterable[str]) -> None:
    """Note the item under the members who now own or take part in it, and take it from those who no longer do.
    Idempotent: writing it again after a crash between the item's write and this one brings the hints back in line."""
    with MemberItemRow.batch_write() as batch:
        for user_id in dict.fromkeys(add):
            batch.save(MemberItemRow(member_pk(tenant_key, user_id), f"{kind}#{item_id}", kind=kind, item_id=item_id))
        for user_id in dict.fromkeys(remove):
            batch.delete(MemberItemRow(member_pk(tenant_key, user_id), f"{kind}#{item_id}"))


def member_items(tenant_key: str, user_id: str, kind: str, limit: int) -> list[tuple[str, str]]:
    """(kind, itemId) of the items of one kind the member owns or takes part in, by item id (one Query); at most
    `limit`."""
    rows = MemberItemRow.query(member_pk(tenant_key, user_id), MemberItemRow.sk.startswith(f"{kind}#"),
                               consistent_read=True, limit=limit)
    return [(row.kind, row.item_id) for row in rows][:limit]


def tenant_items(tenant_key: str) -> Iterator[ItemRow]:
    """Every registered item of a tenant. A Scan: for operations (re-indexing), never on a request path."""
    return ItemRow.scan(ItemRow.pk.startswith(f"{tenant_key}#i#") & (ItemRow.sk == ITEM_SK))
