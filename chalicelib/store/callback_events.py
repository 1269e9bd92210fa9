"""The callback dedupe table: one short-lived item per WeCom event received.

WeCom resends a callback it got no answer to within 5 s, up to three times. The conditional put here is what makes
the second delivery a no-op: the key exists, so the event is not queued again. Items expire by TTL after the
retry horizon, so the table stays small.
"""
from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from chalicelib.store.base import TableModel, conditional_save, table_meta

KEEP_FOR = timedelta(days=3)


class CallbackEvent(TableModel):
    """`pk` is `<tenantKey>#<dedupe key>`, or `suite#<suiteId>#<dedupe key>` for suite instructions."""

    Meta = table_meta("callback-events")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    received_at = UnicodeAttribute(attr_name="receivedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")


def key(scope: str, dedupe_key: str) -> str:
    return f"{scope}#{dedupe_key}"


def record_once(scope: str, dedupe_key: str, kind: str) -> bool:
    """Record the event; False when it was recorded before (a redelivery)."""
    item = CallbackEvent(
        key(scope, dedupe_key),
        kind=kind,
        received_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        expires_at=KEEP_FOR,
    )
    return conditional_save(item, CallbackEvent.pk.does_not_exist())


def forget(scope: str, dedupe_key: str) -> None:
    """Undo a record whose event could not be queued, so WeCom's redelivery is accepted instead of dropped."""
    CallbackEvent(key(scope, dedupe_key)).delete()
