"""The WeCom chat toolbar's work on the chat's contact: find them in the directory (a customer not there yet is
looked up in WeCom on the spot; a 上下游 contact by its corp and userid), show who they are and what is shared with
them, "send to current contact" (share an item and answer the card the page puts into the chat), bind them to
projects and a CRM customer, and the project view's three tabs. The item rules (who may open, maintain, share) are
`chalicelib.sharing.items`."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.auth.identity import Caller
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, ServiceUnavailable
from chalicelib.core.observability import logger
from chalicelib.directory import contacts as directory
from chalicelib.directory import customers
from chalicelib.sharing import cards, items, kinds
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.wecom.errors import WeComApiError, WeComError

EXTERNAL_USERID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CORP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHAIN_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
CHAT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
BOUND_PROJECTS_MAX = 50
SHARED_PROJECTS_SHOWN = 200
OWN_PROJECTS_SHOWN = 200
EXTERNAL = 2  # groupchat/get member_list type of an external contact


def _wecom_unavailable(err: Exception) -> ServiceUnavailable:
    if isinstance(err, WeComApiError):
        logger.warning("WeCom refused a toolbar lookup", extra={"errcode": err.errcode, "path": err.path})
    return ServiceUnavailable("WeCom did not answer the lookup: try again in a moment", code="wecom_unavailable")


def _look_up_customer(caller: Caller, external_userid: str) -> None:
    """A customer added minutes ago: look them up in WeCom now and add them with the sync's rules (members are
    skipped; nothing is created while the team's automatic customer sync is off). 409 saying why when impossible."""
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    if not tenant.settings.auto_sync_customers:
        raise Conflict(f"this customer is not in the team's external directory yet ({external_userid}): automatic "
                       "customer sync is switched off for this team (settings.autoSyncCustomers), so customers "
                       "arrive only when an admin runs a sync. Ask an admin to run the customer sync.",
                       code="contact_not_synced")
    try:
        outcome = customers.refresh(tenant, client_for_tenant(tenant), external_userid)
    except WeComError as err:
        raise _wecom_unavailable(err) from err
    if outcome == customers.SKIPPED_MEMBER:
        raise Conflict(f"{external_userid} is one of the team's own members: members are never external contacts",
                       code="contact_is_member")
    if outcome == customers.ABSENT:
        raise Conflict(f"WeCom says {external_userid} is not a customer of any member of this team (the customer "
                       "was deleted, or the id belongs to another app)", code="contact_not_synced")
    logger.info("chat customer looked up on the spot", extra={"outcome": outcome})


def chat_contact(caller: Caller, external_userid: str) -> Contact:
    """The contact of the chat's customer (external_userid), looked up in WeCom when the directory does not have it
    yet; 409 saying why when it cannot be added, 404 when the caller may not see it."""
    if not isinstance(external_userid, str) or not EXTERNAL_USERID.match(external_userid):
        raise BadRequest("externalUserId must be the chat's WeCom external_userid", code="invalid_external_userid")
    contact_id = contact_store.customer_contact_id(external_userid)
    if contact_store.get(caller.tenant_key, contact_id) is None:
        _look_up_customer(caller, external_userid)
    return directory.visible_contact(caller, contact_id)


def chain_contact(caller: Caller, corp_id: Any, user_id: Any) -> Contact:
    """The 上下游 contact of a chain chat (getCurCorpGroupContact's corpId + userId); 409 when the 上下游 sync has
    not brought them yet, 404 when the caller may not see them."""
    if not isinstance(corp_id, str) or not CORP_ID.match(corp_id) or not isinstance(user_id, str) \
            or not CHAIN_USERID.match(user_id):
        raise BadRequest("corpId and userId must be the 上下游 contact's corp id and WeCom userid",
                         code="invalid_chain_contact")
    contact_id = contact_store.chain_contact_id(corp_id, user_id)
    if contact_store.get(caller.tenant_key, contact_id) is None:
        raise Conflict(f"this 上下游 contact ({user_id} of corp {corp_id}) is not in the team's external directory: "
                       "the 上下游 sync has not brought them yet (their corp joins the chain and shares the app, then "
                       "the next sync adds its members). Try again after the sync, or ask an admin to run it.",
                       code="chain_contact_not_synced")
    return directory.visible_contact(caller, contact_id)


def contact_of(caller: Caller, body: dict) -> Contact:
    """The toolbar's contact from a request: `contactId` (as the page has it once resolved), `externalUserId` (a
    customer), or `corpId` + `userId` (a 上下游 contact)."""
    if body.get("contactId") is not None:
        contact_id = body["contactId"]
        if not isinstance(contact_id, str) or not contact_id:
            raise BadRequest("contactId must be a contact id", code="invalid_contact_id")
        return directory.visible_contact(caller, contact_id)
    if body.get("corpId") is not None or body.get("userId") is not None:
        return chain_contact(caller, body.get("corpId"), body.get("userId"))
    return chat_contact(caller, body.get("externalUserId"))


def contact_card(caller: Caller, body: dict) -> dict:
    """Who the chat's contact is (organisation, account status when the caller may see it) and everything shared
    with them (counts and the newest of each kind), with their binding."""
    contact = contact_of(caller, body)
    home = shares.get_home(caller.tenant_key, contact.contact_id)
    counts = shares.plain(home.counts) if home is not None else {}
    latest = shares.plain(home.latest) if home is not None else {}
    return {
        "contact": directory.describe(contact, caller),
        "shared": {"counts": {kind: int(counts.get(kind, 0)) for kind in kinds.KINDS},
                   "latest": {kind: latest.get(kind, []) for kind in kinds.KINDS}},
        "binding": _binding_json(shares.get_binding(caller.tenant_key, contact.contact_id), contact),
    }


def group_chat(caller: Caller, chat_id: str) -> dict:
    """The customers of a customer group (getCurExternalChat's chatId), for the member to pick one: each with whether
    the directory has them yet (the toolbar looks the picked one up). Only a member of the group may list them: a
    chat id alone must not reveal who is in another colleague's group."""
    if not isinstance(chat_id, str) or not CHAT_ID.match(chat_id):
        raise BadRequest("chatId must be the group's WeCom chat id", code="invalid_chat_id")
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    try:
        group = client_for_tenant(tenant).group_chat(chat_id)
    except WeComApiError as err:
        if err.group_chat_unknown:
            raise Conflict("WeCom does not know this group as one of the team's customer groups",
                           code="group_chat_not_found") from err
        raise _wecom_unavailable(err) from err
    except WeComError as err:
        raise _wecom_unavailable(err) from err
    people = group.get("member_list", [])
    if not any(m.get("type") != EXTERNAL and m.get("userid") == caller.user_id for m in people):
        raise Forbidden("only the group's own members may list its customers", code="not_in_group")
    externals = [m for m in people if m.get("type") == EXTERNAL and m.get("userid")]
    found = contact_store.batch_get(
        caller.tenant_key, [contact_store.customer_contact_id(m["userid"]) for m in externals])
    return {
        "chatId": chat_id,
        "name": group.get("name") or "",
        "customers": [{"externalUserId": m["userid"], "name": m.get("name") or m.get("group_nickname") or None,
                       "inDirectory": contact_store.customer_contact_id(m["userid"]) in found}
                      for m in externals],
    }


def send_to_contact(caller: Caller, body: dict) -> dict:
    """"Send to current contact": resolve the chat's contact, share the item (for a form: the form to fill, or one
    record to view), notify the contact through the official account when they follow it, and answer the card the
    page puts into the chat (`sendChatMessage`, a news message)."""
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
    contact = contact_of(caller, body)
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    items.home_url(tenant, kind, item_id)  # a card linking nowhere is refused (409) before anything is shared
    shared, created = items.share(caller, kind, item_id, contact)
    item = shares.get_item(caller.tenant_key, kind, item_id)
    notification = items.queue_wechat(caller.tenant_key, contact, item, first="您有新的共享内容",
                                      what=f"{items.member_name_or_id(caller)}共享了{kinds.KIND_LABELS[kind]}")
    return {"contact": {"contactId": contact.contact_id, "name": contact.name}, "kind": kind, "itemId": item_id,
            "sharedAt": shared["sharedAt"], "created": created, "notification": notification,
            "card": cards.card(tenant, item)}


def bind(caller: Caller, external_userid: str, body: dict) -> dict:
    return bind_contact(caller, chat_contact(caller, external_userid), body)


def bind_contact(caller: Caller, contact: Contact, body: dict) -> dict:
    """Bind the chat's contact to projects and a CRM customer (the toolbar's first use in a chat). One binding per
    contact, shared by the members who chat with them; the last write wins and says who made it."""
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
    return project_view(caller, chat_contact(caller, external_userid))


def project_view(caller: Caller, contact: Contact) -> dict:
    """The toolbar's project view, three tabs: 绑定的项目 (bound to the chat's contact, `bound`), 联系人的项目
    (shared with them, `shared`) and 本人的项目 (`ownProjects`: the caller's own, those they take part in and those
    shared with them internally). A project the caller may open is shown in full; any other only by its title."""
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
    return {"binding": _binding_json(row, contact), "projects": projects, "ownProjects": own_projects(caller)}


def own_projects(caller: Caller) -> list[dict]:
    """本人的项目: the projects the caller owns (`role: owner`), takes part in (`edit`) or has been shared internally
    (`view`)."""
    return own_items(caller, "project")


def own_items(caller: Caller, kind: str) -> list[dict]:
    """The caller's items of one kind (owner, `edit` or `view` member), by item id: what the toolbar offers to send
    (sharing needs owner or edit: `canMaintain`). A hint whose item no longer names the caller is left out."""
    kinds.check_kind(kind)
    keys = shares.member_items(caller.tenant_key, caller.user_id, kind, OWN_PROJECTS_SHOWN)
    found = shares.items(caller.tenant_key, keys)
    shown = []
    for key in keys:
        item = found.get(key)
        if item is None or not items.can_open(caller.user_id, item):
            continue
        role = "owner" if item.owner_id == caller.user_id else shares.plain(item.members).get(caller.user_id)
        entry = {**items.describe(item, caller), "role": role, "canOpen": True}
        entry.pop("members", None)
        shown.append(entry)
    return shown
