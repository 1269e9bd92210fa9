"""Every change to a contact, its permissions or its sharing, recorded and listable per contact.

`record` keeps only what changed: for each field whose value differs, the value before and after (a creation has
everything after, a deletion everything before). Actions that are only a change of fields (`record_if_changed`)
leave no entry when nothing changed. Whoever makes a change records it — the directory for edits,
members and share lists; the account features for applications, decisions and account changes.
"""
from __future__ import annotations

import json

from chalicelib.core import cursors
from chalicelib.store import audit as audit_store

CREATE, EDIT, VISIBLE_MEMBERS, SHARE_LIST, DELETE = "create", "edit", "visible_members", "share_list", "delete"
PAGE_DEFAULT, PAGE_MAX = 50, 100


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """(before, after) reduced to the keys whose values differ; a key missing on one side is absent there."""
    keys = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    return ({key: before[key] for key in keys if key in before}, {key: after[key] for key in keys if key in after})


def record(tenant_key: str, contact_id: str, actor: str, action: str, before: dict, after: dict) -> None:
    """Append one entry: `actor` is a userid, `contact:<contactId>` for a contact changing itself, or a system
    name; `action` a short verb (create, edit, visible_members, share_list, delete, account_applied, ...)."""
    old, new = changed_fields(before, after)
    audit_store.put(tenant_key, contact_id, actor, action, old, new)


def record_if_changed(tenant_key: str, contact_id: str, actor: str, action: str, before: dict, after: dict) -> None:
    """`record`, unless no field changed: for actions that are nothing but their fields' change (a repeated enable,
    the same share list again), where an entry would claim something happened that did not."""
    if any(changed_fields(before, after)):
        record(tenant_key, contact_id, actor, action, before, after)


def history(tenant_key: str, contact_id: str, cursor: str | None = None, limit: int = PAGE_DEFAULT) -> dict:
    """One page of the contact's trail, newest first: `{"entries": [...], "nextCursor"}` (one Query)."""
    start = cursors.decode(cursor, {"auditKey": audit_store.audit_key(tenant_key, contact_id)}, ("entryId",))
    items, last = audit_store.page(tenant_key, contact_id, start, limit)
    return {
        "entries": [
            {
                "entryId": item.entry_id,
                "at": item.at.isoformat(),
                "actor": item.actor,
                "action": item.action,
                "before": json.loads(item.before),
                "after": json.loads(item.after),
            }
            for item in items
        ],
        "nextCursor": cursors.encode(last),
    }
