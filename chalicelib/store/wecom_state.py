"""The wecom-state table: what every Lambda instance must share to talk to WeCom politely.

Global items, keyed by corp or suite (not by tenant: the WeCom layer knows no tenants):
- `token#<corpid or suite_id>#<credential hash>`: an access token, its expiry and the refresh lease;
- `rate#<corpid>#<path>#<minute>`: permits handed out in that minute's window;
- `suite#<suite_id>#ticket`: the latest suite_ticket WeCom pushed.
Every item carries a TTL, so expired tokens, spent windows and old tickets disappear by themselves. Every write that
decides between concurrent instances is conditional.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import TableModel, conditional_update, table_meta
from chalicelib.wecom.tokens import CacheEntry, Token

TOKEN_GRACE = 3600  # keep an expired token's item an hour for diagnosis
LEASE_GRACE = 86400
TICKET_TTL = 86400  # a ticket is valid 30 minutes; WeCom pushes a new one every 10


class WeComState(TableModel):
    Meta = table_meta("wecom-state")

    pk = UnicodeAttribute(hash_key=True)
    token = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")
    refresh_at = NumberAttribute(null=True, attr_name="refreshAt")
    lease_holder = UnicodeAttribute(null=True, attr_name="leaseHolder")
    lease_until = NumberAttribute(null=True, attr_name="leaseUntil")
    used = NumberAttribute(null=True)
    ticket = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class DynamoTokenCache:
    """`chalicelib.wecom.tokens.TokenCache` on this table."""

    def read(self, key: str) -> CacheEntry:
        try:
            item = WeComState.get(f"token#{key}", consistent_read=True)
        except DoesNotExist:
            return CacheEntry(None)
        token = None
        if item.token is not None:
            token = Token(item.token, float(item.expires_at), float(item.refresh_at))
        return CacheEntry(token, float(item.lease_until or 0))

    def lease(self, key: str, holder: str, *, now: float, until: float, current: str | None) -> bool:
        free = WeComState.lease_until.does_not_exist() | (WeComState.lease_until <= now)
        unchanged = WeComState.token.does_not_exist() if current is None else WeComState.token == current
        return conditional_update(
            WeComState(f"token#{key}"),
            [
                WeComState.lease_holder.set(holder),
                WeComState.lease_until.set(until),
                WeComState.ttl.set(_at(until + LEASE_GRACE)),
            ],
            free & unchanged,
        )

    def store(self, key: str, holder: str, token: Token) -> bool:
        return conditional_update(
            WeComState(f"token#{key}"),
            [
                WeComState.token.set(token.value),
                WeComState.expires_at.set(token.expires_at),
                WeComState.refresh_at.set(token.refresh_at),
                WeComState.ttl.set(_at(token.expires_at + TOKEN_GRACE)),
                WeComState.lease_holder.remove(),
                WeComState.lease_until.remove(),
            ],
            WeComState.lease_holder == holder,
        )

    def release(self, key: str, holder: str) -> None:
        conditional_update(
            WeComState(f"token#{key}"),
            [WeComState.lease_holder.remove(), WeComState.lease_until.remove()],
            WeComState.lease_holder == holder,
        )

    def drop(self, key: str, value: str) -> None:
        conditional_update(
            WeComState(f"token#{key}"),
            [WeComState.token.remove(), WeComState.expires_at.remove(), WeComState.refresh_at.remove()],
            WeComState.token == value,
        )


class DynamoPermitStore:
    """`chalicelib.wecom.ratelimit.PermitStore` on this table: one conditional increment per block of permits."""

    def take(self, key: str, count: int, limit: int, expires_at: float) -> int:
        item = WeComState(f"rate#{key}")
        want = min(count, limit)
        while want > 0:
            if conditional_update(
                item,
                [WeComState.used.add(want), WeComState.ttl.set(_at(expires_at))],
                WeComState.used.does_not_exist() | (WeComState.used <= limit - want),
            ):
                return want
            # Less than a block is left: take what remains (another instance may be taking it too; then retry).
            item.refresh(consistent_read=True)
            want = min(count, limit - int(item.used or 0))
        return 0


def save_suite_ticket(suite_id: str, ticket: str) -> None:
    """Keep the suite_ticket WeCom just pushed; the suite token source reads the latest."""
    WeComState(f"suite#{suite_id}#ticket", ticket=ticket, ttl=timedelta(seconds=TICKET_TTL)).save()


def suite_ticket(suite_id: str) -> str | None:
    try:
        return WeComState.get(f"suite#{suite_id}#ticket", consistent_read=True).ticket
    except DoesNotExist:
        return None
