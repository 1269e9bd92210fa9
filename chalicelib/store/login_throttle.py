"""Counters that throttle external sign-in attempts and other repeated actions (TTL `ttl`), keyed by tenantKey
first.

Kinds of item, told apart by the range key `counterKey` (`<name>` is the hash of the attempted account name):
- `pair#<name>#<source ip>` — one source's attempts on one name: `count` (attempts taken since the last success or
  a long quiet) and `nextAt` (no attempt is checked before it). An attempt takes its place with a conditional
  UpdateItem on the count it read, *before* the password is checked, so racing requests serialise on the item.
- `known#<name>#<source ip>` — this source signed in to this name successfully (kept 30 days).
- `acct#<name>#<window>` and `ip#<source ip>#<window>` — attempts from sources not known for the name in one fixed
  window (`count`), taken with a conditional `ADD` before the check and given back on success.
- `rate#<action>#<window>` — the same fixed-window counts for other rate-limited actions (messages between contacts
  and members), never given back.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import TableModel, batch_get_in_tenant, conditional_update, table_meta


class Counter(TableModel):
    Meta = table_meta("login-throttle")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    counter_key = UnicodeAttribute(range_key=True, attr_name="counterKey")
    count = NumberAttribute(null=True)
    next_at = NumberAttribute(null=True, attr_name="nextAt")
    ttl = TTLAttribute(null=True)


def _expiry(at: float) -> datetime:
    return datetime.fromtimestamp(int(at) + 1, tz=timezone.utc)


def get(tenant_key: str, counter_key: str) -> Counter | None:
    try:
        return Counter.get(tenant_key, counter_key, consistent_read=True)
    except DoesNotExist:
        return None


def get_many(tenant_key: str, counter_keys: list[str]) -> dict[str, Counter]:
    """The existing counters among these keys, by key: one BatchGetItem."""
    return batch_get_in_tenant(Counter, tenant_key, counter_keys, "counter_key")


def take_pair(tenant_key: str, counter_key: str, previous: int | None, count: int, next_at: float,
              expires_at: float) -> bool:
    """Set the pair's count and next allowed time, if its count is still `previous` (None: no item yet).

    False when another attempt got there first: the caller reads again."""
    unchanged = Counter.count.does_not_exist() if previous is None else Counter.count == previous
    return conditional_update(
        Counter(tenant_key, counter_key),
        [Counter.count.set(count), Counter.next_at.set(next_at), Counter.ttl.set(_expiry(expires_at))],
        unchanged,
    )


def remember(tenant_key: str, counter_key: str, expires_at: float) -> None:
    """Keep (or refresh) a marker item until `expires_at`."""
    Counter(tenant_key, counter_key, ttl=_expiry(expires_at)).save()


def clear(tenant_key: str, counter_key: str) -> None:
    Counter(tenant_key, counter_key).delete()


def counts(found: dict[str, Counter], counter_keys: list[str]) -> dict[str, int]:
    """The counts of these fixed-window counters among `found` (missing ones count 0)."""
    return {key: int(found[key].count or 0) if key in found else 0 for key in counter_keys}


def add_below(tenant_key: str, counter_key: str, cap: int, expires_at: float) -> bool:
    """Count one attempt unless the counter already reached `cap` (False then)."""
    return conditional_update(
        Counter(tenant_key, counter_key),
        [Counter.count.add(1), Counter.ttl.set(_expiry(expires_at))],
        Counter.count.does_not_exist() | (Counter.count < cap),
    )


def give_back(tenant_key: str, counter_key: str) -> None:
    """Uncount one attempt (it succeeded); never below zero."""
    conditional_update(Counter(tenant_key, counter_key), [Counter.count.add(-1)], Counter.count > 0)
