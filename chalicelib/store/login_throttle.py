"""Counters that throttle external sign-in attempts (TTL `ttl`), keyed by tenantKey first.

Two kinds of item, told apart by the range key `counterKey`:
- `acct#<sha256(account name)>` — the attempts on one account name, whether or not such an account exists: five
  slots (`slot0`…`slot4`) each holding the time of an attempt that has not succeeded, and `lockedUntil`. An attempt
  takes a free slot (empty, or older than the window) with a conditional UpdateItem *before* the password is
  checked, so however many requests race, at most five guesses per window get as far as the check; a success
  empties the item.
- `ip#<source ip>#<window>` — attempts from one source address in one fixed window (`count`), taken with a
  conditional `ADD` before the check and given back on success.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import TableModel, batch_get_in_tenant, conditional_update, table_meta

SLOTS = 5


class Counter(TableModel):
    Meta = table_meta("login-throttle")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    counter_key = UnicodeAttribute(range_key=True, attr_name="counterKey")
    slot0 = NumberAttribute(null=True)
    slot1 = NumberAttribute(null=True)
    slot2 = NumberAttribute(null=True)
    slot3 = NumberAttribute(null=True)
    slot4 = NumberAttribute(null=True)
    locked_until = NumberAttribute(null=True, attr_name="lockedUntil")
    count = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)


def _slot(index: int) -> NumberAttribute:
    return getattr(Counter, f"slot{index}")


def _expiry(at: float) -> datetime:
    return datetime.fromtimestamp(int(at) + 1, tz=timezone.utc)


def get(tenant_key: str, counter_key: str) -> Counter | None:
    try:
        return Counter.get(tenant_key, counter_key, consistent_read=True)
    except DoesNotExist:
        return None


def slots(item: Counter | None) -> list[float | None]:
    """The five slots' attempt times (None: never used)."""
    return [getattr(item, f"slot{i}") if item is not None else None for i in range(SLOTS)]


def take_slot(tenant_key: str, counter_key: str, index: int, previous: float | None, at: float,
              expires_at: float) -> bool:
    """Put an attempt at `at` in slot `index`, if the slot still holds `previous` and no lock is running.

    False when another attempt took the slot first or a lock began: the caller reads again.
    """
    slot = _slot(index)
    unchanged = slot.does_not_exist() if previous is None else slot == previous
    not_locked = Counter.locked_until.does_not_exist() | (Counter.locked_until <= at)
    return conditional_update(
        Counter(tenant_key, counter_key),
        [slot.set(at), Counter.ttl.set(_expiry(expires_at))],
        unchanged & not_locked,
    )


def lock(tenant_key: str, counter_key: str, until: float) -> None:
    """Start (or extend) a lock; an existing later lock is kept."""
    conditional_update(
        Counter(tenant_key, counter_key),
        [Counter.locked_until.set(until), Counter.ttl.set(_expiry(until))],
        Counter.locked_until.does_not_exist() | (Counter.locked_until < until),
    )


def clear(tenant_key: str, counter_key: str) -> None:
    Counter(tenant_key, counter_key).delete()


def counts(tenant_key: str, counter_keys: list[str]) -> dict[str, int]:
    """The counts of these fixed-window counters (missing ones count 0): one BatchGetItem."""
    found = batch_get_in_tenant(Counter, tenant_key, counter_keys, "counter_key")
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
