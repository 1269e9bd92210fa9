"""The front list's index (外部互联): for every member, one small item per contact they personally relate to.

The front list must cost one Query per page whatever the size of the directory, so the question "which contacts may
this member see?" cannot be answered by reading contacts. It is answered ahead of time: a contact's members — its
adder, visible members, share list and (WeCom customers) followers — each get an entry keyed
`<tenantKey>#<userId>` / `<organisationId>#<contactId>` that carries what the list shows (name, mobile, email,
organisation, position) and a lowercase `search` text. A page is then one Query on the member's partition, grouped
by organisation because the sort key starts with it, and a search is a FilterExpression on that same Query.

Which members get an entry and what it shows are the directory's rules, and so is the order that keeps the index
whole (entries put before the contact names a member, deleted after it stopped): all of that is in
chalicelib/directory/contact_writes.py, the one path every writer of a contact takes. This module is the table.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import UnicodeAttribute

from chalicelib.store.base import TableModel, table_meta

NO_ORGANISATION = "~"  # sorts after every organisation id: contacts filed under none come last


def access_key(tenant_key: str, user_id: str) -> str:
    return f"{tenant_key}#{user_id}"


def entry_key(organisation_id: str | None, contact_id: str) -> str:
    return f"{organisation_id or NO_ORGANISATION}#{contact_id}"


def search_text(*values: str | None) -> str:
    """What a search matches: the name, mobile and email, lowercased, one per line (a query never spans two)."""
    return "\n".join((value or "").lower() for value in values)


class AccessEntry(TableModel):
    Meta = table_meta("contact-access")

    access_key = UnicodeAttribute(hash_key=True, attr_name="accessKey")
    entry_key = UnicodeAttribute(range_key=True, attr_name="entryKey")
    contact_id = UnicodeAttribute(attr_name="contactId")
    name = UnicodeAttribute()
    mobile = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    organisation_id = UnicodeAttribute(null=True, attr_name="organisationId")
    org_name = UnicodeAttribute(null=True, attr_name="orgName")
    position = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    search = UnicodeAttribute()


def _item(tenant_key: str, user_id: str, fields: dict) -> AccessEntry:
    return AccessEntry(
        access_key(tenant_key, user_id),
        entry_key(fields["organisationId"], fields["contactId"]),
        contact_id=fields["contactId"],
        name=fields["name"],
        mobile=fields["mobile"],
        email=fields["email"],
        organisation_id=fields["organisationId"],
        org_name=fields["orgName"],
        position=fields["position"],
        source=fields["source"],
        search=search_text(fields["name"], fields["mobile"], fields["email"]),
    )


def put_entries(tenant_key: str, entries: Iterable[tuple[str, dict]]) -> None:
    """Put (member, list fields) entries: BatchWriteItem, 25 per request."""
    items = [_item(tenant_key, user_id, fields) for user_id, fields in entries]
    if not items:
        return
    with AccessEntry.batch_write() as batch:
        for item in items:
            batch.save(item)


def delete_entries(tenant_key: str, keys: Iterable[tuple[str, str]]) -> None:
    """Delete (member, entry key) entries: BatchWriteItem, 25 per request."""
    keys = list(keys)
    if not keys:
        return
    with AccessEntry.batch_write() as batch:
        for user_id, key in keys:
            batch.delete(AccessEntry(access_key(tenant_key, user_id), key))


def page(tenant_key: str, user_id: str, start_key: dict | None, limit: int, query: str | None
         ) -> tuple[list[AccessEntry], dict | None]:
    """One page of a member's front list: exactly one Query request, `limit` entries evaluated from `start_key`
    (fewer returned when `query` filters some out), and DynamoDB's LastEvaluatedKey (None on the last page)."""
    condition = AccessEntry.search.contains(query.lower()) if query else None
    results = AccessEntry.query(
        access_key(tenant_key, user_id),
        filter_condition=condition,
        page_size=limit,
        last_evaluated_key=start_key,
    )
    raw = next(results.page_iter)
    return [AccessEntry.from_raw_data(item) for item in raw.get("Items", [])], results.page_iter.last_evaluated_key
