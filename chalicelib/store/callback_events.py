"""The callback dedupe table: one short-lived item per WeCom event received, and whether it is queued yet.

WeCom resends a callback it got no answer to within 5 s, up to three times. The conditional put here is what makes
a redelivery of a queued event a no-op. The item is `pending` from that put until the SQS send returned, then
`queued`: a redelivery that finds it pending (the first delivery is still sending, failed, or its Lambda died) must
queue the event itself, or the event is lost. Items expire by TTL after the retry horizon, so the table stays small.
"""
from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import TableModel, conditional_save, conditional_update, table_meta

KEEP_FOR = timedelta(days=3)
PENDING, QUEUED = "pending", "queued"


class CallbackEvent(TableModel):
    """`pk` is `<tenantKey>#<dedupe key>`, or `suite#<suiteId>#<dedupe key>` for suite instructions."""

    Meta = table_meta("callback-events")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    received_at = UnicodeAttribute(attr_name="receivedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")
    state = UnicodeAttribute(null=True)  # PENDING or QUEUED; absent on records written before states existed


def key(scope: str, dedupe_key: str) -> str:
    return f"{scope}#{dedupe_key}"


def record_once(scope: str, dedupe_key: str, kind: str) -> str | None:
    """Record the event as pending; None when this call recorded it, else the state an earlier delivery left
    (a record without a state predates them and was queued)."""
    item = CallbackEvent(
        key(scope, dedupe_key),
        kind=kind,
        received_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        expires_at=KEEP_FOR,
        state=PENDING,
    )
    if conditional_save(item, CallbackEvent.pk.does_not_exist()):
        return None
    try:
        return CallbackEvent.get(key(scope, dedupe_key), consistent_read=True).state or QUEUED
    except DoesNotExist:  # expired between the put and the read: nobody queued it for this delivery
        return PENDING


def mark_queued(scope: str, dedupe_key: str) -> None:
    """The event's SQS send returned: later deliveries are duplicates. (A record TTL removed meanwhile is not made
    again: it would have no expiry.)"""
    conditional_update(CallbackEvent(key(scope, dedupe_key)), [CallbackEvent.state.set(QUEUED)],
                       CallbackEvent.pk.exists())
