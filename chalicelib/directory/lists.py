"""The two contact lists: the front list (外部互联) of the contacts a member personally relates to, and the back
office's list of everything a maintainer maintains.

The front list is one Query per page on the member's partition of `contact-access`, whatever the size of the
directory: entries sort by organisation then contact, so a page comes grouped by organisation, and a search (`q`,
on name, mobile or email) is a FilterExpression on that same Query — a page may then hold fewer than `limit`
contacts, and `nextCursor` is given as long as DynamoDB has more to read. Admins, 外部互联维护 holders and dimension
maintainers see more contacts than their front list holds: the back office lists those, one Query per page on the
contacts table (a tenant's contacts) or its `byDimension` / `byOrganisation` index.
"""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.core import cursors
from chalicelib.core.errors import BadRequest, Forbidden
from chalicelib.auth.identity import Caller
from chalicelib.store import contact_access
from chalicelib.store import contacts as contact_store
from chalicelib.store import organisations as node_store
from chalicelib.store.contacts import Contact

PAGE_DEFAULT, PAGE_MAX = 50, 200
MAX_QUERY = 64


def front_list(caller: Caller, query: str | None = None, cursor: str | None = None,
               limit: int = PAGE_DEFAULT) -> dict:
    """`{"groups": [{"organisationId", "orgName", "contacts": [...]}], "nextCursor"}`: one page of the contacts the
    caller relates to, grouped by organisation (a group may continue on the next page)."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise BadRequest(f"q is longer than {MAX_QUERY} characters", code="invalid_query")
    key = contact_access.access_key(caller.tenant_key, caller.user_id)
    start = cursors.decode(cursor, {"accessKey": key}, ("entryKey",))
    entries, last = contact_access.page(caller.tenant_key, caller.user_id, start, limit, query or None)
    groups: list[dict] = []
    for entry in entries:
        if not groups or groups[-1]["organisationId"] != entry.organisation_id:
            groups.append({"organisationId": entry.organisation_id, "orgName": entry.org_name, "contacts": []})
        groups[-1]["contacts"].append({
            "contactId": entry.contact_id,
            "name": entry.name,
            "mobile": entry.mobile,
            "email": entry.email,
            "position": entry.position,
            "orgName": entry.org_name,
            "source": entry.source,
        })
    return {"groups": groups, "nextCursor": cursors.encode(last)}


def _summary(raw: dict) -> dict:
    """A back-office row from an index item (the summary attributes, no GetItem)."""
    item = Contact.from_raw_data(raw)

    def stamp(value: datetime | None) -> str | None:
        return value.astimezone(timezone.utc).isoformat() if value else None

    return {
        "contactId": item.contact_id,
        "name": item.name,
        "mobile": item.mobile,
        "email": item.email,
        "organisationId": item.organisation_id,
        "departmentId": item.department_id,
        "dimensionId": item.dimension_id,
        "orgName": item.org_name,
        "position": item.position,
        "source": item.source,
        "adderId": item.adder_id,
        "accountStatus": item.account_status,
        "securityLevel": int(item.security_level or 0),
        "wecomCustomer": bool(item.wecom_customer),
        "inactiveAt": stamp(item.inactive_at),
        "createdAt": stamp(item.created_at),
        "updatedAt": stamp(item.updated_at),
    }


def back_office_list(caller: Caller, *, dimension_id: str | None = None, organisation_id: str | None = None,
                     department_id: str | None = None, cursor: str | None = None, limit: int = PAGE_DEFAULT) -> dict:
    """`{"contacts": [...], "nextCursor"}`: the contacts the caller maintains, optionally of one dimension,
    organisation or department. Admins and 外部互联维护 holders maintain them all, a dimension maintainer their
    dimensions' (403 for anything else). Each page is one Query."""
    tenant_key = caller.tenant_key
    if organisation_id or department_id:
        organisation_id, department_id, node_dimension = _organisation_filter(caller, organisation_id, department_id)
        _require(caller, node_dimension)
        start = cursors.decode(cursor, {"organisationKey": contact_store.organisation_key(tenant_key, organisation_id),
                                        "tenantKey": tenant_key}, ("placeKey", "contactId"))
        items, last = contact_store.page_in_organisation(tenant_key, organisation_id, department_id, start, limit)
        return _answer(items, cursors.encode(last))
    if dimension_id:
        _require(caller, dimension_id)
        return _dimension_page(caller, dimension_id, cursor, limit)
    if caller.is_directory_maintainer:
        start = cursors.decode(cursor, {"tenantKey": tenant_key}, ("contactId",))
        items, last = contact_store.page_in_tenant(tenant_key, start, limit)
        return _answer(items, cursors.encode(last))
    dimensions = sorted(caller.maintained_dimensions())
    if not dimensions:
        raise Forbidden("the back office lists contacts for admins, 外部互联维护 holders and dimension maintainers",
                        code="maintainer_required")
    payload = cursors.decode_payload(cursor)
    current = payload.get("d") if payload else dimensions[0]
    if current not in dimensions:
        raise cursors.invalid()
    return _dimension_page(caller, current, cursor if payload else None, limit, dimensions)


def _dimension_page(caller: Caller, dimension_id: str, cursor: str | None, limit: int,
                    walk: list[str] | None = None) -> dict:
    """One Query on `byDimension`. Walking several dimensions (a maintainer of more than one, no filter), the cursor
    names the dimension too, and moves on to the next one when a dimension is exhausted."""
    tenant_key = caller.tenant_key
    fixed = {"dimensionKey": contact_store.dimension_key(tenant_key, dimension_id), "tenantKey": tenant_key}
    payload = cursors.decode_payload(cursor)
    start = None
    if payload is not None and "s" not in payload:
        start = cursors.check_key(payload["k"], fixed, ("contactId",))
    items, last = contact_store.page_in_dimension(tenant_key, dimension_id, start, limit)
    if walk is None:
        return _answer(items, cursors.encode(last))
    if last is not None:
        return _answer(items, cursors.encode(last, {"d": dimension_id}))
    following = walk.index(dimension_id) + 1
    if following < len(walk):
        return _answer(items, cursors.encode({}, {"d": walk[following], "s": 1}))
    return _answer(items, None)


def _answer(items: list[dict], next_cursor: str | None) -> dict:
    return {"contacts": [_summary(item) for item in items], "nextCursor": next_cursor}


def _organisation_filter(caller: Caller, organisation_id: str | None, department_id: str | None
                         ) -> tuple[str, str | None, str]:
    if department_id:
        department = node_store.get(caller.tenant_key, department_id)
        if department is None or department.kind != node_store.DEPARTMENT:
            raise BadRequest(f"no department {department_id!r} in this directory", code="department_not_found")
        if organisation_id and organisation_id != department.organisation_id:
            raise BadRequest("the department does not belong to that organisation",
                             code="department_not_in_organisation")
        organisation_id = department.organisation_id
    organisation = node_store.get(caller.tenant_key, organisation_id)
    if organisation is None or organisation.kind != node_store.ORGANISATION:
        raise BadRequest(f"no organisation {organisation_id!r} in this directory", code="organisation_not_found")
    return organisation.node_id, department_id, organisation.dimension_id


def _require(caller: Caller, dimension_id: str) -> None:
    if not caller.maintains(dimension_id):
        raise Forbidden("you do not maintain this dimension", code="maintainer_required")
