"""The front list's index (外部互联): for every member, one small item per contact they personally relate to.

The front list must cost one Query per page whatever the size of the directory, so the question "which contacts may
this member see?" cannot be answered by reading contacts. It is answered ahead of time: a contact's members — its
adder, visible members, share list and (WeCom customers) followers — each get an entry keyed
`<tenantKey>#<userId>` / `<organisationId>#<contactId>` that carries what the list shows (name, mobile, email,
organisation, position) and a lowercase `search` text. A page is then one Query on the member's partition, grouped
by organisation because the sort key starts with it, and a search is a FilterExpression on that same Query.

Every writer of a contact keeps one invariant, the same as the customer-follows index: entries are written before
the contact names the member (or shows the new fields), and deleted only after the contact stopped naming them
(`put_phase` before the contact's write, `retire_phase` after it). `retire_phase` re-reads the contact after
deleting and puts back any entry a concurrent writer made current again, so the index is never missing an entry;
at worst it briefly holds a stale one, and a stale entry reveals nothing: opening the contact checks the contact
itself (404 for a member it no longer names).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

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


def entry(*, contact_id: str, name: str, organisation_id: str | None, org_name: str | None, position: str | None,
          mobile: str | None, email: str | None, source: str | None) -> dict:
    """The list fields of a contact, as every entry of it carries them."""
    return {
        "contactId": contact_id,
        "name": name,
        "organisationId": organisation_id or None,
        "orgName": org_name or None,
        "position": position or None,
        "mobile": mobile or None,
        "email": email or None,
        "source": source or None,
    }


def entry_of(contact: Any) -> dict:
    """The list fields of a stored contact (a `store.contacts.Contact`)."""
    return entry(contact_id=contact.contact_id, name=contact.name, organisation_id=contact.organisation_id,
                 org_name=contact.org_name, position=contact.position, mobile=contact.mobile, email=contact.email,
                 source=contact.source)


@dataclass(frozen=True)
class EntryState:
    """The entries one contact calls for: one per member, all carrying `entry`."""

    members: frozenset[str]
    entry: dict

    def keys(self) -> set[tuple[str, str]]:
        key = entry_key(self.entry["organisationId"], self.entry["contactId"])
        return {(user_id, key) for user_id in self.members}


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


def _to_put(before: EntryState | None, after: EntryState | None) -> set[str]:
    if after is None:
        return set()
    if before is None or before.entry != after.entry:
        return set(after.members)
    return set(after.members - before.members)


def put_phase(tenant_key: str, contact_id: str, before: EntryState | None, after: EntryState | None) -> None:
    """Before the contact's write: the entries of new members, or every member's when the list fields changed."""
    put_many(tenant_key, [(contact_id, before, after)])


def put_many(tenant_key: str, changes: Iterable[tuple[str, EntryState | None, EntryState | None]]) -> None:
    """`put_phase` for several contacts at once (a sync page): BatchWriteItem, 25 entries per request."""
    items = [
        _item(tenant_key, user_id, after.entry)
        for _contact_id, before, after in changes
        for user_id in sorted(_to_put(before, after))
    ]
    if not items:
        return
    with AccessEntry.batch_write() as batch:
        for item in items:
            batch.save(item)


def retire_phase(
    tenant_key: str,
    contact_id: str,
    before: EntryState | None,
    after: EntryState | None,
    current: Callable[[], EntryState | None],
) -> None:
    """After the contact's write: delete the entries it no longer calls for (members gone, or keys moved to another
    organisation), then re-read it through `current` and put back any a concurrent writer made current again."""
    stale = (before.keys() if before else set()) - (after.keys() if after else set())
    if not stale:
        return
    with AccessEntry.batch_write() as batch:
        for user_id, key in sorted(stale):
            batch.delete(AccessEntry(access_key(tenant_key, user_id), key))
    now = current()
    if now is None:
        return
    revived = {user_id for user_id, key in stale & now.keys()}
    if revived:
        with AccessEntry.batch_write() as batch:
            for user_id in sorted(revived):
                batch.save(_item(tenant_key, user_id, now.entry))


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
