"""External contacts' login accounts, their activation links, and each tenant's apps opened to external users.

One table, partitioned by tenantKey, with three kinds of item told apart by the range key `itemKey`:
- `contact#<contactId>` — the account itself (one per contact, so the key makes "one account per contact" a
  conditional put): its name, status (`awaiting_activation`, `active`, `disabled`), the password hash, whether the
  password must be changed at the next sign-in, and the hash of the one activation link that is live.
- `name#<accountName>` — the name's claim, pointing at the contact: account names are unique per tenant because
  this item is put with `attribute_not_exists` in the same transaction as the account.
- `activation#<sha256(token)>` — an activation link (TTL `ttl`): which contact it is for, when it expires, when it
  was used. Only the token's hash is stored.
- `apps` — the apps this tenant opens to external users (absent: the default set).
- `wechat#<unionid>` — a WeChat identity a contact bound to their account, pointing at the contact: put with
  `attribute_not_exists` in the same transaction as the contact's unionid, so one WeChat binds one contact at most.

Sign-in reads `name#` then `contact#` (two GetItems); a signed-in contact's requests read `contact#` (one GetItem).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.core import clock
from chalicelib.store.base import TableModel, conditional_update, table_meta, transact

AWAITING_ACTIVATION, ACTIVE, DISABLED = "awaiting_activation", "active", "disabled"
APPS_KEY = "apps"


def contact_key(contact_id: str) -> str:
    return f"contact#{contact_id}"


def name_key(account_name: str) -> str:
    return f"name#{account_name}"


def activation_key(token_hash: str) -> str:
    return f"activation#{token_hash}"


def wechat_key(unionid: str) -> str:
    return f"wechat#{unionid}"


class AccountItem(TableModel):
    Meta = table_meta("accounts")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    item_key = UnicodeAttribute(range_key=True, attr_name="itemKey")
    contact_id = UnicodeAttribute(null=True, attr_name="contactId")
    account_name = UnicodeAttribute(null=True, attr_name="accountName")
    status = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True, attr_name="passwordHash")
    must_change_password = BooleanAttribute(null=True, attr_name="mustChangePassword")
    activation_hash = UnicodeAttribute(null=True, attr_name="activationHash")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")
    used_at = NumberAttribute(null=True, attr_name="usedAt")
    apps = ListAttribute(of=UnicodeAttribute, null=True)
    created_by = UnicodeAttribute(null=True, attr_name="createdBy")
    created_at = UTCDateTimeAttribute(null=True, attr_name="createdAt")
    activated_at = UTCDateTimeAttribute(null=True, attr_name="activatedAt")
    password_changed_at = UTCDateTimeAttribute(null=True, attr_name="passwordChangedAt")
    disabled_at = UTCDateTimeAttribute(null=True, attr_name="disabledAt")
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")
    updated_by = UnicodeAttribute(null=True, attr_name="updatedBy")
    ttl = TTLAttribute(null=True)


def _get(tenant_key: str, item_key: str) -> AccountItem | None:
    try:
        return AccountItem.get(tenant_key, item_key, consistent_read=True)
    except DoesNotExist:
        return None


def account_of(tenant_key: str, contact_id: str) -> AccountItem | None:
    return _get(tenant_key, contact_key(contact_id))


def contact_id_of_name(tenant_key: str, account_name: str) -> str | None:
    claim = _get(tenant_key, name_key(account_name))
    return claim.contact_id if claim is not None else None


def activation(tenant_key: str, token_hash: str) -> AccountItem | None:
    return _get(tenant_key, activation_key(token_hash))


def _activation_item(tenant_key: str, contact_id: str, account_name: str, token_hash: str, expires_at: int,
                     retention_seconds: int) -> AccountItem:
    return AccountItem(tenant_key, activation_key(token_hash), contact_id=contact_id, account_name=account_name,
                       expires_at=expires_at, created_at=clock.utcnow(),
                       ttl=datetime.fromtimestamp(expires_at + retention_seconds, tz=timezone.utc))


def create(tenant_key: str, contact_id: str, account_name: str, *, created_by: str, password_hash: str | None,
           activation: tuple[str, int] | None, retention_seconds: int,
           contact_write: Callable[[TransactWrite], None]) -> bool:
    """Claim the name and create the contact's account (and its activation link), in one transaction with the
    contact's side (`contact_write` adds it: the directory's view of the account changes with it or not at all).

    False when the name is taken, the contact has an account already, or the contact's side's condition failed
    (nothing is written then).
    """
    stamp = clock.utcnow()
    account = AccountItem(
        tenant_key,
        contact_key(contact_id),
        contact_id=contact_id,
        account_name=account_name,
        status=ACTIVE if password_hash else AWAITING_ACTIVATION,
        password_hash=password_hash,
        must_change_password=bool(password_hash),
        activation_hash=activation[0] if activation else None,
        created_by=created_by,
        created_at=stamp,
        updated_at=stamp,
    )
    claim = AccountItem(tenant_key, name_key(account_name), contact_id=contact_id, account_name=account_name,
                        created_at=stamp)

    def build(transaction: TransactWrite) -> None:
        transaction.save(claim, condition=AccountItem.item_key.does_not_exist())
        transaction.save(account, condition=AccountItem.item_key.does_not_exist())
        if activation:
            transaction.save(_activation_item(tenant_key, contact_id, account_name, activation[0], activation[1],
                                              retention_seconds),
                             condition=AccountItem.item_key.does_not_exist())
        contact_write(transaction)

    return transact(build).committed


def change_status(tenant_key: str, contact_id: str, new_status: str, expected: tuple[str, ...], *,
                  contact_write: Callable[[TransactWrite], None]) -> bool:
    """Move the account between statuses together with the contact's side (`contact_write` adds it: its
    accountStatus), in one transaction; False when the account's status was not one of `expected`, or the
    contact's side's condition failed."""
    stamp = clock.utcnow()
    actions = [AccountItem.status.set(new_status), AccountItem.updated_at.set(stamp)]
    if new_status == DISABLED:  # a link issued before must not come back to life when the account is enabled again
        actions += [AccountItem.disabled_at.set(stamp), AccountItem.activation_hash.remove()]
    else:
        actions.append(AccountItem.disabled_at.remove())

    def build(transaction: TransactWrite) -> None:
        transaction.update(AccountItem(tenant_key, contact_key(contact_id)), actions=actions,
                           condition=AccountItem.status.is_in(*expected))
        contact_write(transaction)

    return transact(build).committed


def replace_activation(tenant_key: str, contact_id: str, account_name: str, token_hash: str, expires_at: int,
                       retention_seconds: int, *, void_password: bool = False) -> bool:
    """Issue a new activation link for an account that is not disabled; any earlier link stops working at once.
    With `void_password` (an admin's reset) the password stops working in the same transaction: the account awaits
    activation again.

    False when the account is disabled or gone.
    """
    voided = [AccountItem.password_hash.remove(), AccountItem.must_change_password.remove(),
              AccountItem.status.set(AWAITING_ACTIVATION)] if void_password else []

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            AccountItem(tenant_key, contact_key(contact_id)),
            actions=[AccountItem.activation_hash.set(token_hash), AccountItem.updated_at.set(clock.utcnow())] + voided,
            condition=AccountItem.item_key.exists() & (AccountItem.status != DISABLED)
            & (AccountItem.account_name == account_name),
        )
        transaction.save(_activation_item(tenant_key, contact_id, account_name, token_hash, expires_at,
                                          retention_seconds),
                         condition=AccountItem.item_key.does_not_exist())

    return transact(build).committed


def use_activation(tenant_key: str, contact_id: str, token_hash: str, password_hash: str, at: float) -> bool:
    """Set the password through an activation link, once: the link must still be the account's live one, unused and
    unexpired, and the account not disabled. Both the account and the link change in one transaction, so two uses
    racing each other cannot both succeed. False when any of that does not hold."""
    stamp = clock.utcnow()

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            AccountItem(tenant_key, contact_key(contact_id)),
            actions=[
                AccountItem.password_hash.set(password_hash),
                AccountItem.status.set(ACTIVE),
                AccountItem.must_change_password.set(False),
                AccountItem.activation_hash.remove(),
                AccountItem.activated_at.set(stamp),
                AccountItem.password_changed_at.set(stamp),
                AccountItem.updated_at.set(stamp),
            ],
            condition=(AccountItem.activation_hash == token_hash) & (AccountItem.status != DISABLED),
        )
        transaction.update(
            AccountItem(tenant_key, activation_key(token_hash)),
            actions=[AccountItem.used_at.set(int(at))],
            condition=AccountItem.used_at.does_not_exist() & (AccountItem.expires_at > int(at)),
        )

    return transact(build).committed


def set_password(tenant_key: str, contact_id: str, password_hash: str, *, expected_hash: str,
                 must_change: bool = False) -> bool:
    """Replace the password hash, conditional on the hash the caller verified still being the current one (a
    concurrent change wins once) and on the account being active."""
    stamp = clock.utcnow()
    return conditional_update(
        AccountItem(tenant_key, contact_key(contact_id)),
        [
            AccountItem.password_hash.set(password_hash),
            AccountItem.must_change_password.set(must_change),
            AccountItem.password_changed_at.set(stamp),
            AccountItem.activation_hash.remove(),  # a reset link still pending stops working
            AccountItem.updated_at.set(stamp),
        ],
        (AccountItem.password_hash == expected_hash) & (AccountItem.status == ACTIVE),
    )


def rehash(tenant_key: str, contact_id: str, password_hash: str, *, expected_hash: str) -> bool:
    """Store the same password under today's cost (after a sign-in verified it against an older hash)."""
    return conditional_update(
        AccountItem(tenant_key, contact_key(contact_id)),
        [AccountItem.password_hash.set(password_hash)],
        AccountItem.password_hash == expected_hash,
    )


def apps(tenant_key: str) -> list[str] | None:
    """The apps this tenant opened to external users, or None when it never chose (the default set)."""
    item = _get(tenant_key, APPS_KEY)
    return list(item.apps or []) if item is not None else None


def set_apps(tenant_key: str, app_keys: list[str], updated_by: str) -> None:
    AccountItem(tenant_key, APPS_KEY, apps=app_keys, updated_by=updated_by, updated_at=clock.utcnow()).save()


def wechat_claim(tenant_key: str, unionid: str) -> AccountItem | None:
    """Which contact bound this WeChat identity (None: nobody did through the settings)."""
    return _get(tenant_key, wechat_key(unionid))


def claim_wechat_in(transaction: TransactWrite, tenant_key: str, unionid: str, contact_id: str) -> None:
    """Add the claim of `unionid` for the contact to a transaction: it fails if another contact holds it."""
    claim = AccountItem(tenant_key, wechat_key(unionid), contact_id=contact_id, created_at=clock.utcnow())
    transaction.save(claim, condition=AccountItem.item_key.does_not_exist() | (AccountItem.contact_id == contact_id))


def release_wechat_in(transaction: TransactWrite, tenant_key: str, unionid: str, contact_id: str) -> None:
    """Add the release of the contact's claim of `unionid` to a transaction (a claim held by another is kept)."""
    transaction.delete(AccountItem(tenant_key, wechat_key(unionid)),
                       condition=AccountItem.item_key.does_not_exist() | (AccountItem.contact_id == contact_id))
