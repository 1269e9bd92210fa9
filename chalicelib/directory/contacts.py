"""External contacts as people maintain them: create, read, edit, visible members, share list, delete.

Every entry point that reads a contact for a member goes through `visible_contact`, which answers a contact the
caller may not see exactly as a missing one (404 `contact_not_found`): the directory never reveals that a contact
exists. Past that, an action the caller may not take is a 403.

Each write goes through the contact write path (contact_writes: index keys, front list, write order), with the
counts on the node the contact is filed under in the same transaction (so a node with contacts cannot be deleted),
and is recorded in the audit trail (only the fields that changed).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.directory import audit, contact_writes, permissions, validation
from chalicelib.core.errors import AppError, BadRequest, Conflict, Forbidden, NotFound
from chalicelib.auth.identity import Caller
from chalicelib.store import contacts as store
from chalicelib.store import organisations as nodes
from chalicelib.store.base import transact
from chalicelib.store.contacts import Contact
from chalicelib.store.tenants import Tenant
from chalicelib.tenants.members import known_member
from chalicelib.store import tenants
from chalicelib.auth import sessions

SOURCES = store.SOURCES
# What WeCom owns on a synced contact: changing it here would be undone by the next sync.
SYNCED_FIELDS = ("name", "position", "organisationId", "departmentId")
MAX_CONTACT_ID = 160


def not_found() -> NotFound:
    return NotFound("no such contact", code="contact_not_found")


def new_contact_id() -> str:
    """URL-safe and unguessable: `ct-` and 16 hex digits (WeCom customers are `wx-<external_userid>`)."""
    return f"ct-{secrets.token_hex(8)}"


def find(tenant_key: str, contact_id: str) -> Contact | None:
    """The stored contact, or None (also for an id that cannot be one)."""
    if not contact_id or len(contact_id) > MAX_CONTACT_ID:
        return None
    return store.get(tenant_key, contact_id)


def visible_contact(caller: Caller, contact_id: str) -> Contact:
    """The contact, if the caller may see it; 404 `contact_not_found` when it is missing, in another tenant (ids are
    looked up in the caller's own tenant only) or not visible to the caller — the three are indistinguishable."""
    contact = find(caller.tenant_key, contact_id)
    if contact is None or not permissions.can_see(caller, contact):
        raise not_found()
    return contact


# --- what a contact looks like --------------------------------------------------------------------------------------
def snapshot(contact: Contact) -> dict:
    """The fields the audit trail compares (camelCase, JSON values)."""
    return {
        "name": contact.name,
        "mobile": contact.mobile,
        "email": contact.email,
        "organisationId": contact.organisation_id,
        "departmentId": contact.department_id,
        "dimensionId": contact.dimension_id,
        "orgName": contact.org_name,
        "position": contact.position,
        "remark": contact.remark,
        "securityLevel": int(contact.security_level if contact.security_level is not None else 0),
        "source": contact.source,
        "adderId": contact.adder_id,
        "visibleMembers": list(contact.visible_members or ()),
        "shareList": store.raw_map(contact.share_list),
        "externalUserId": contact.external_userid,
        "unionid": contact.unionid,
        "openid": contact.openid,
        "peerTenantKey": contact.peer_tenant_key,
        "peerUserId": contact.peer_user_id,
        "accountStatus": contact.account_status or store.ACCOUNT_NONE,
        "accountName": contact.account_name,
    }


def describe(contact: Contact, caller: Caller) -> dict:
    """The contact as the API shows it to `caller` (who can see it): account information (accountStatus,
    accountName) only when the caller may see it, and what the caller may do with it."""
    fields = snapshot(contact)
    data = {
        "contactId": contact.contact_id,
        **{key: value for key, value in fields.items() if key not in ("accountStatus", "accountName")},
        "dimensionName": contact.dimension_name,
        "followUsers": sorted(store.follower_ids(contact)),
        "wecomCustomer": bool(contact.wecom_customer),
        "inactiveAt": contact.inactive_at.isoformat() if contact.inactive_at else None,
        "createdAt": contact.created_at.isoformat() if contact.created_at else None,
        "updatedAt": contact.updated_at.isoformat() if contact.updated_at else None,
        "version": int(contact.version or 0),
        "permissions": permissions.allowed_actions(caller, contact),
    }
    if permissions.can_see_account(caller, contact):
        data["accountStatus"] = fields["accountStatus"]
        data["accountName"] = fields["accountName"]
    return data


# --- where a contact is filed ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    organisation: nodes.Node | None
    department: nodes.Node | None

    @property
    def organisation_id(self) -> str | None:
        return self.organisation.node_id if self.organisation else None

    @property
    def department_id(self) -> str | None:
        return self.department.node_id if self.department else None

    @property
    def dimension_id(self) -> str | None:
        return self.organisation.dimension_id if self.organisation else None

    @property
    def org_name(self) -> str | None:
        return self.organisation.name if self.organisation else None

    @property
    def filed_under(self) -> str | None:
        return self.department_id or self.organisation_id


def placement(tenant_key: str, organisation_id: str | None, department_id: str | None) -> Placement:
    """The organisation and department a contact would be filed under, checked to exist in the tenant; a
    department alone names its organisation. The dimension follows from the organisation."""
    department = None
    if department_id:
        department = nodes.get(tenant_key, department_id)
        if department is None or department.kind != nodes.DEPARTMENT:
            raise BadRequest(f"no department {department_id!r} in this directory", code="department_not_found")
        if organisation_id and department.organisation_id != organisation_id:
            raise BadRequest("the department does not belong to that organisation",
                             code="department_not_in_organisation")
        organisation_id = department.organisation_id
    organisation = None
    if organisation_id:
        organisation = nodes.get(tenant_key, organisation_id)
        if organisation is None or organisation.kind != nodes.ORGANISATION:
            raise BadRequest(f"no organisation {organisation_id!r} in this directory", code="organisation_not_found")
    return Placement(organisation, department)


def _placement_fields(place: Placement) -> dict:
    return {
        "organisation_id": place.organisation_id,
        "department_id": place.department_id,
        "dimension_id": place.dimension_id,
        "org_name": place.org_name,
    }


def _filed_under(contact: Contact) -> str | None:
    """The node a contact is counted on: its department, else its organisation."""
    return contact.department_id or contact.organisation_id


def _check_members(tenant: Tenant, user_ids: list[str], known: set[str]) -> None:
    """Every userid not already related to the contact is an active member of the team (asking WeCom about one
    Yunqiao has not met yet)."""
    for user_id in user_ids:
        if user_id not in known and known_member(tenant, user_id) is None:
            raise BadRequest(f"no member {user_id!r} in this team", code="member_not_found")


# --- create ---------------------------------------------------------------------------------------------------------
def create_contact(tenant: Tenant, fields: dict, *, source: str, adder_id: str | None, actor: str,
                   contact_id: str | None = None) -> Contact:
    """Create a contact from API-shaped `fields` (camelCase: the editable fields, optionally `visibleMembers` and
    `shareList`, and for other doors externalUserId, unionid, openid, peerTenantKey, peerUserId), validated; the
    adder (if any) is its first visible member unless `visibleMembers` says otherwise. Security level defaults to
    the tenant's setting. Recorded in the audit trail as `create` by `actor`.

    `contact_id` is for callers that need a deterministic id to stay idempotent (the local stack's seed, an
    accepted invitation): when that id exists already the answer is 409 `contact_exists` and nothing changes."""
    if source not in SOURCES:
        raise BadRequest(f"unknown source {source!r}", code="invalid_source")
    body = dict(fields)
    visible_raw, share_raw = body.pop("visibleMembers", None), body.pop("shareList", None)
    clean = validation.contact_fields(body, creating=True, allowed=validation.EDITABLE + validation.IDENTITY)
    visible = validation.user_ids(visible_raw, "visibleMembers") if visible_raw is not None else (
        [adder_id] if adder_id else [])
    share = validation.share_list(share_raw) if share_raw is not None else {}
    _check_members(tenant, list(dict.fromkeys(visible + list(share))), {adder_id} if adder_id else set())
    tenant_key = tenant.tenant_key
    place = placement(tenant_key, clean.get("organisationId"), clean.get("departmentId"))
    level = clean.get("securityLevel")
    if level is None:
        level = validation.security_level(int(tenant.settings.default_security_level or 0))
    contact_id = contact_id or new_contact_id()
    fields = {
        "name": clean["name"],
        "source": source,
        "mobile": clean.get("mobile"),
        "email": clean.get("email"),
        "position": clean.get("position"),
        "remark": clean.get("remark"),
        **_placement_fields(place),
        "external_userid": clean.get("externalUserId"),
        "unionid": clean.get("unionid"),
        "openid": clean.get("openid"),
        "peer_tenant_key": clean.get("peerTenantKey"),
        "peer_user_id": clean.get("peerUserId"),
        "adder_id": adder_id,
        "visible_members": visible,
        "share_list": share,
        "security_level": level,
        "account_status": store.ACCOUNT_NONE,
        "version": 0,
    }
    written: dict = {}

    def commit(record: dict) -> bool:
        written.update(record)
        return transact(lambda tx: (
            store.put_new_in(tx, tenant_key, contact_id, record),
            nodes.count_contacts_in(tx, tenant_key, place.filed_under, 1),
        )).committed

    if not contact_writes.write_one(contact_writes.Change(tenant_key, contact_id, fields, commit, creating=True)):
        if store.get(tenant_key, contact_id) is not None:
            raise Conflict(f"contact {contact_id!r} exists", code="contact_exists")
        raise BadRequest("the organisation or department was deleted meanwhile", code="organisation_not_found")
    contact = store.new_item(tenant_key, contact_id, written)
    audit.record(tenant_key, contact_id, actor, audit.CREATE, {}, snapshot(contact))
    return store.get(tenant_key, contact_id) or contact


# --- change ---------------------------------------------------------------------------------------------------------
def _write(contact: Contact, fields: dict, after: dict, *, actor: str, action: str,
           moved: tuple[str | None, str | None] | None = None, also: Callable[[Any], None] | None = None,
           refused: AppError | None = None) -> Contact:
    """Write `fields` to the contact if nobody changed it since it was read (409 `contact_changed` otherwise),
    moving its count from one node to another when it is refiled (`moved`), with `also` in the same transaction
    (`refused` is the answer when that is what failed), and record the change."""
    tenant_key, contact_id, version = contact.tenant_key, contact.contact_id, int(contact.version or 0)
    old_node, new_node = moved if moved and moved[0] != moved[1] else (None, None)

    def commit(record: dict) -> bool:
        return transact(lambda tx: (
            store.update_at_version_in(tx, tenant_key, contact_id, version, record),
            nodes.count_contacts_in(tx, tenant_key, old_node, -1),
            nodes.count_contacts_in(tx, tenant_key, new_node, 1),
            also(tx) if also else None,
        )).committed

    before = snapshot(contact)
    if not contact_writes.write_one(contact_writes.Change(tenant_key, contact_id, fields, commit, before=contact)):
        latest = store.get(tenant_key, contact_id)
        if latest is None:
            raise not_found()
        if int(latest.version or 0) != version:
            raise Conflict("the contact was changed by someone else meanwhile: reload it and try again",
                           code="contact_changed")
        raise refused or BadRequest("the organisation or department was deleted meanwhile",
                                    code="organisation_not_found")
    audit.record_if_changed(tenant_key, contact_id, actor, action, before, after)
    return store.get(tenant_key, contact_id) or contact


def set_wechat(contact: Contact, unionid: str | None, openid: str | None, *, actor: str, action: str,
               claim: Callable[[Any], None]) -> Contact:
    """Bind a WeChat identity to the contact (or, with None, unbind it): its unionid (what WeChat sign-in looks up
    through `byUnion`) and openid, written if nobody changed the contact since it was read, in one transaction with
    `claim` (the accounts table's claim of the unionid, so one WeChat binds one contact at most). 409
    `wechat_in_use` when the claim is another contact's, `contact_changed` when the contact moved on."""
    fields = {"unionid": unionid, "openid": openid}
    return _write(contact, fields, {**snapshot(contact), **fields}, actor=actor, action=action, also=claim,
                  refused=Conflict("this WeChat is bound to another contact of the team", code="wechat_in_use"))


_SIMPLE = {  # API field → contact attribute
    "name": "name",
    "mobile": "mobile",
    "email": "email",
    "position": "position",
    "remark": "remark",
    "securityLevel": "security_level",
}


def apply_edit(contact: Contact, changes: dict, *, actor: str, action: str = audit.EDIT) -> Contact:
    """Change a contact's basic information (`changes`: validated editable fields, see `validation.contact_fields`;
    None clears one) without a permission check — for the routes after theirs, and for a contact editing itself
    (actor `contact:<contactId>`). A WeCom-synced contact's name, position and filing belong to WeCom (409
    `field_synced`). Returns the stored contact."""
    before = snapshot(contact)
    changes = {key: value for key, value in changes.items() if before.get(key) != value}
    if not changes:
        return contact
    if contact.source in store.SYNCED_SOURCES:
        owned = sorted(key for key in changes if key in SYNCED_FIELDS)
        if owned:
            raise Conflict(f"{', '.join(owned)} come from WeCom for this contact and are kept in step by the sync",
                           code="field_synced")
    after = dict(before)
    fields = {}
    for key, attribute in _SIMPLE.items():
        if key in changes:
            fields[attribute] = after[key] = changes[key]
    moved = None
    if "organisationId" in changes or "departmentId" in changes:
        organisation_id = changes.get("organisationId", contact.organisation_id)
        if "departmentId" in changes:
            department_id = changes["departmentId"]
        else:
            department_id = contact.department_id if organisation_id == contact.organisation_id else None
        place = placement(contact.tenant_key, organisation_id, department_id)
        fields.update(_placement_fields(place))
        after.update(organisationId=place.organisation_id, departmentId=place.department_id,
                     dimensionId=place.dimension_id, orgName=place.org_name)
        moved = (_filed_under(contact), place.filed_under)
    return _write(contact, fields, after, actor=actor, action=action, moved=moved)


def edit_contact(caller: Caller, contact_id: str, body: dict) -> Contact:
    contact = visible_contact(caller, contact_id)
    if not permissions.can_edit_basic(caller, contact):
        raise Forbidden("only the contact's adder and the directory's maintainers edit it", code="edit_not_allowed")
    return apply_edit(contact, validation.contact_fields(body, creating=False), actor=caller.user_id)


def _may_share(caller: Caller, contact_id: str) -> Contact:
    contact = visible_contact(caller, contact_id)
    if not permissions.can_manage_sharing(caller, contact):
        raise Forbidden("only the adder, share-list editors and maintainers change who sees this contact",
                        code="sharing_not_allowed")
    return contact


def set_visible_members(caller: Caller, contact_id: str, user_ids: object) -> Contact:
    """Replace the contact's visible members (view access for each)."""
    contact = _may_share(caller, contact_id)
    ids = validation.user_ids(user_ids, "visibleMembers")
    _check_members(tenants.get_enabled_recent(caller.tenant_key), ids, set(contact_writes.members_of(contact)))
    after = {**snapshot(contact), "visibleMembers": ids}
    return _write(contact, {"visible_members": ids}, after, actor=caller.user_id, action=audit.VISIBLE_MEMBERS)


def set_share_list(caller: Caller, contact_id: str, share_list: object) -> Contact:
    """Replace the contact's share list (`{userId: {"permission": "view" | "edit"}}`)."""
    contact = _may_share(caller, contact_id)
    entries = validation.share_list(share_list)
    _check_members(tenants.get_enabled_recent(caller.tenant_key), list(entries),
                   set(contact_writes.members_of(contact)))
    after = {**snapshot(contact), "shareList": entries}
    return _write(contact, {"share_list": entries}, after, actor=caller.user_id, action=audit.SHARE_LIST)


def delete_contact(caller: Caller, contact_id: str) -> None:
    """Delete a contact: its adder or a maintainer. A WeCom-synced contact cannot be deleted (409
    `contact_synced`): the next sync or callback would bring it back. Its external sessions end with it; its audit
    trail stays."""
    contact = visible_contact(caller, contact_id)
    if not permissions.can_delete(caller, contact):
        raise Forbidden("only the contact's adder and the directory's maintainers delete it", code="delete_not_allowed")
    if contact.source in store.SYNCED_SOURCES:
        raise Conflict("this contact is synced from WeCom and would come back with the next sync; it leaves the "
                       "directory when no member follows it in WeCom any more", code="contact_synced")
    tenant_key, contact_id = contact.tenant_key, contact.contact_id
    version, filed_under = int(contact.version or 0), _filed_under(contact)

    def commit(_record: dict) -> bool:
        return transact(lambda tx: (
            store.delete_at_version_in(tx, tenant_key, contact_id, version),
            nodes.count_contacts_in(tx, tenant_key, filed_under, -1),
        )).committed

    before = snapshot(contact)
    if not contact_writes.write_one(contact_writes.Change(tenant_key, contact_id, {}, commit, before=contact,
                                                          deleting=True)):
        raise Conflict("the contact was changed by someone else meanwhile: reload it and try again",
                       code="contact_changed")
    sessions.revoke_all(tenant_key, sessions.CONTACT, contact_id)
    audit.record(tenant_key, contact_id, caller.user_id, audit.DELETE, before, {})


def create_manual(caller: Caller, body: dict) -> Contact:
    """A member adds a contact by hand (front list or back office): they are its adder and first visible member."""
    if not isinstance(body, dict):
        raise BadRequest("the contact must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - set(validation.EDITABLE) - {"visibleMembers", "shareList"})
    if unknown:
        raise BadRequest(f"unknown or read-only fields: {', '.join(unknown)}", code="unknown_field")
    return create_contact(tenants.get_enabled_recent(caller.tenant_key), body, source=store.SOURCE_MANUAL,
                          adder_id=caller.user_id, actor=caller.user_id)


def require_audit_access(caller: Caller, contact_id: str) -> None:
    """The audit trail is for those who may see account information (adder, maintainers, admins): 404 when the
    caller cannot see the contact, 403 when they see it view-only. A deleted contact's trail stays readable for
    admins and 外部互联维护 holders (404 when there never was one)."""
    contact = find(caller.tenant_key, contact_id)
    if contact is None:
        if caller.is_directory_maintainer and audit.history(caller.tenant_key, contact_id, limit=1)["entries"]:
            return
        raise not_found()
    if not permissions.can_see(caller, contact):
        raise not_found()
    if not permissions.can_see_account(caller, contact):
        raise Forbidden("the audit trail is for the contact's adder and maintainers", code="audit_not_allowed")
