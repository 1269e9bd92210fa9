"""The WeCom chat toolbar's work on the chat's customer: find them in the directory, "send to current contact"
(share an item and tell them), bind them to projects and a CRM customer, and the toolbar's project view. The item
rules (who may open, maintain, share) are `chalicelib.sharing.items`."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.auth.identity import Caller
from chalicelib.core.errors import BadRequest, Conflict
from chalicelib.directory import contacts as directory
from chalicelib.sharing import items, kinds
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact

EXTERNAL_USERID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BOUND_PROJECTS_MAX = 50
SHARED_PROJECTS_SHOWN = 200


def chat_contact(caller: Caller, external_userid: str) -> Contact:
    """The synced contact of the chat's external_userid: 409 `contact_not_synced` (saying why) when Yunqiao does not
    have it yet, 404 when the caller may not see it."""
    if not isinstance(external_userid, str) or not EXTERNAL_USERID.match(external_userid):
        raise BadRequest("externalUserId must be the chat's WeCom external_userid", code="invalid_external_userid")
    contact_id = contact_store.customer_contact_id(external_userid)
    if contact_store.get(caller.tenant_key, contact_id) is None:
        tenant = tenant_store.get_enabled_recent(caller.tenant_key)
        why = ("automatic customer sync is switched off for this team (settings.autoSyncCustomers), so customers "
               "arrive only when an admin runs a sync"
               if not tenant.settings.auto_sync_customers else
               "WeCom's notice of the new customer has not been processed yet, or the customer was added before the "
               "last scheduled sync ran; customers who are members of the team are never synced")
        raise Conflict(f"this customer is not in the team's external directory yet ({external_userid}): {why}. "
                       "Try again in a minute, or ask an admin to run the customer sync.", code="contact_not_synced")
    return directory.visible_contact(caller, contact_id)


def send_to_contact(caller: Caller, body: dict) -> dict:
    """"Send to current contact": resolve the chat's customer, share the item (for a form: the form to fill, or one
    record to view) and notify the contact through the official account when they follow it."""
    kind = str(body.get("kind") or "")
    kinds.check_kind(kind)
    item_id = kinds.check_item_id(str(body.get("itemId") or ""))
    mode = body.get("mode")
    if kind == "form":
        mode = mode or "fill"
        if mode == "view":
            kind, item_id = "form_record", kinds.check_item_id(str(body.get("recordId") or ""))
        elif mode != "fill":
            raise BadRequest('mode must be "fill" (the form) or "view" (one record, recordId)', code="invalid_mode")
    elif mode is not None:
        raise BadRequest("mode applies to forms only", code="invalid_mode")
    contact = chat_contact(caller, str(body.get("externalUserId") or ""))
    shared, created = items.share(caller, kind, item_id, contact)
    item = shares.get_item(caller.tenant_key, kind, item_id)
    notification = items.queue_wechat(caller.tenant_key, contact, item, first="您有新的共享内容",
                                      what=f"{items.member_name_or_id(caller)}共享了{kinds.KIND_LABELS[kind]}")
    return {"contact": {"contactId": contact.contact_id, "name": contact.name}, "kind": kind, "itemId": item_id,
            "sharedAt": shared["sharedAt"], "created": created, "notification": notification}


def bind(caller: Caller, external_userid: str, body: dict) -> dict:
    """Bind the chat's contact to projects and a CRM customer (the toolbar's first use in a chat). One binding per
    contact, shared by the members who chat with them; the last write wins and says who made it."""
    contact = chat_contact(caller, external_userid)
    project_ids = body.get("projectIds") or []
    if not isinstance(project_ids, list) or len(project_ids) > BOUND_PROJECTS_MAX or not all(
            isinstance(p, str) and kinds.ITEM_ID.match(p) for p in project_ids):
        raise BadRequest(f"projectIds must be a list of at most {BOUND_PROJECTS_MAX} item ids",
                         code="invalid_project_ids")
    crm = body.get("crmCustomerId")
    if crm is not None and (not isinstance(crm, str) or not kinds.ITEM_ID.match(crm)):
        raise BadRequest("crmCustomerId must be an item id", code="invalid_crm_customer")
    row = shares.put_binding(caller.tenant_key, contact.contact_id, list(dict.fromkeys(project_ids)), crm,
                             caller.user_id)
    return _binding_json(row, contact)


def _binding_json(row: shares.BindingRow | None, contact: Contact) -> dict:
    return {
        "contactId": contact.contact_id,
        "projectIds": list(row.project_ids) if row else [],
        "crmCustomerId": row.crm_customer_id if row else None,
        "boundBy": row.bound_by if row else None,
        "boundAt": row.bound_at if row else None,
    }


def binding(caller: Caller, external_userid: str) -> dict:
    contact = chat_contact(caller, external_userid)
    return _binding_json(shares.get_binding(caller.tenant_key, contact.contact_id), contact)


def bound_projects(caller: Caller, external_userid: str) -> dict:
    """The toolbar's project view: projects bound to the chat's contact and projects shared with them. A project the
    caller may open (owner or internal member) is shown in full; any other only by its title."""
    contact = chat_contact(caller, external_userid)
    row = shares.get_binding(caller.tenant_key, contact.contact_id)
    bound = list(row.project_ids) if row else []
    shared_rows, _more = shares.feed_page(caller.tenant_key, contact.contact_id, "project", SHARED_PROJECTS_SHOWN, None)
    shared = {r.item_id: r.shared_at for r in shared_rows}
    order = list(dict.fromkeys(bound + list(shared)))
    found = shares.items(caller.tenant_key, [("project", project_id) for project_id in order])
    projects = []
    for project_id in order:
        item = found.get(("project", project_id))
        entry: dict[str, Any] = {"itemId": project_id, "kind": "project", "bound": project_id in bound,
                                 "shared": project_id in shared, "sharedAt": shared.get(project_id)}
        if item is None:
            entry.update(title=None, registered=False, canOpen=False)
        elif items.can_open(caller.user_id, item):
            entry.update(items.describe(item, caller), registered=True, canOpen=True)
            entry.pop("members", None)
        else:
            entry.update(title=item.title, registered=True, canOpen=False)
        projects.append(entry)
    return {"binding": _binding_json(row, contact), "projects": projects}
