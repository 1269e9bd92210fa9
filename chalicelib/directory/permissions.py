"""Who may do what with a contact: pure functions of the caller and the contact (no I/O), so every route, the
front list's index and other features (account applications, sharing) apply the same rules.

- See: its adder, visible members, share list, followers (WeCom customers), maintainers of its dimension,
  外部互联维护 holders and admins. Everyone else is told the contact does not exist (404), never 403.
- Edit basic information: the adder, maintainers of its dimension, 外部互联维护 holders, admins.
- Maintain visible members and the share list: the adder, share-list editors (permission `edit`), maintainers,
  外部互联维护 holders, admins.
- See account information (accountStatus, accountName, the audit trail): the adder, maintainers, 外部互联维护
  holders, admins — not a view-only member.
- Delete: the adder, maintainers, 外部互联维护 holders, admins (a WeCom-synced contact is refused later, whoever asks:
  the sync would bring it back).
"Maintainers" below means `Caller.maintains(dimension)`: maintainers of that dimension, and through 外部互联维护 or
admin, of every dimension.
"""
from __future__ import annotations

from chalicelib.auth.identity import Caller
from chalicelib.directory.contact_writes import members_of
from chalicelib.store import roles
from chalicelib.store.contacts import SHARE_EDIT, Contact, raw_map


def _in_tenant(caller: Caller, contact: Contact) -> bool:
    return caller.tenant_key == contact.tenant_key


def is_adder(caller: Caller, contact: Contact) -> bool:
    return bool(contact.adder_id) and contact.adder_id == caller.user_id


def is_editor(caller: Caller, contact: Contact) -> bool:
    """On the share list with permission `edit`."""
    entry = raw_map(contact.share_list).get(caller.user_id) or {}
    return entry.get("permission") == SHARE_EDIT


def maintains(caller: Caller, contact: Contact) -> bool:
    return _in_tenant(caller, contact) and caller.maintains(contact.dimension_id)


def can_see(caller: Caller, contact: Contact) -> bool:
    return _in_tenant(caller, contact) and (caller.user_id in members_of(contact) or maintains(caller, contact))


def can_edit_basic(caller: Caller, contact: Contact) -> bool:
    return _in_tenant(caller, contact) and (is_adder(caller, contact) or maintains(caller, contact))


def can_manage_sharing(caller: Caller, contact: Contact) -> bool:
    return _in_tenant(caller, contact) and (
        is_adder(caller, contact) or is_editor(caller, contact) or maintains(caller, contact)
    )


def can_see_account(caller: Caller, contact: Contact) -> bool:
    return _in_tenant(caller, contact) and (is_adder(caller, contact) or maintains(caller, contact))


def can_delete(caller: Caller, contact: Contact) -> bool:
    return _in_tenant(caller, contact) and (is_adder(caller, contact) or maintains(caller, contact))


def allowed_actions(caller: Caller, contact: Contact) -> dict[str, bool]:
    """What the caller may do with a contact they can see, for the front end to show or hide its buttons."""
    return {
        "edit": can_edit_basic(caller, contact),
        "share": can_manage_sharing(caller, contact),
        "account": can_see_account(caller, contact),
        "delete": can_delete(caller, contact),
    }


def dimension_maintainers(tenant_key: str, dimension_id: str | None) -> list[str]:
    """The members holding `dim:<dimensionId>` (one Query on the roles index; not pure, unlike the rules above).
    Together with the 外部互联维护 holders they approve a contact's account application."""
    if not dimension_id:
        return []
    return roles.holders(tenant_key, roles.dimension_role(dimension_id))
