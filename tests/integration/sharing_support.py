"""What the sharing, home and OAuth tests share: demo customers as synced contacts, contact sessions, registering and
sharing items through the members' routes, the tenant's official account, and counting DynamoDB requests."""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from tests.integration.api_support import body, session_headers

CHEN = "wmYQdemoa9f7e97965d6cf799a529102"  # 陈先生: followed by zhangsan and lisi; follows the demo official account
LIN = "wmYQdemo9ab62b5ef34a985438bfdf7e"  # 林女士: followed by zhangsan; follows the account, never signed in
HUANG = "wmYQdemo0a3d72134fb3d6c024db4c51"  # 黄同学: followed by lisi only
OA_APPID, OA_SECRET = "wxdemooa00000001", "demo-oa-secret-0001"
OA_TEMPLATE = "yqDemoTplCollab0001-shared-item-notice"
OPENIDS = {CHEN: "oDemoOpenid0001", LIN: "oDemoOpenid0002", HUANG: "oDemoOpenid0003"}
UNIONIDS = {CHEN: "oz4Dq5demoUnion000000000001", LIN: "oz4Dq5demoUnion000000000002",
            HUANG: "oz4Dq5demoUnion000000000003"}


def sync_customer(tenant, external_userid: str):
    """The demo customer as a synced contact of the tenant (what a callback or the scheduled sync stores)."""
    from chalicelib.directory import customers
    from chalicelib.store import contacts
    from chalicelib.tenants.wecom_clients import client_for_tenant

    customers.refresh(tenant, client_for_tenant(tenant), external_userid)
    return contacts.get(tenant.tenant_key, contacts.customer_contact_id(external_userid))


def contact_headers(tenant, contact_id: str, method: str = "wecom_oauth") -> dict:
    """A live contact session (as the OAuth sign-in issues it)."""
    from chalicelib.auth import sessions

    return session_headers(sessions.issue(tenant.tenant_key, sessions.CONTACT, contact_id, method).token)


def register(client, headers: dict, kind: str, item_id: str, expect: int = 201, **fields) -> dict:
    """Register an item (201), or update one registered before (`expect=200`)."""
    fields.setdefault("title", f"{kind} {item_id}")
    if kind == "form" and "form" not in fields:
        fields["form"] = {"fields": [
            {"name": "company", "label": "公司", "type": "text", "required": True},
            {"name": "size", "label": "人数", "type": "number", "required": False},
            {"name": "visit", "label": "拜访日期", "type": "date", "required": False},
            {"name": "level", "label": "级别", "type": "select", "required": False, "options": ["A", "B"]},
        ]}
    reply = client.http.put(f"/api/sharing/items/{kind}/{item_id}", headers=headers, body=json.dumps(fields))
    assert reply.status_code == expect, reply.body
    return body(reply)


def share(client, headers: dict, kind: str, item_id: str, contact_id: str, expect: int = 201) -> dict:
    reply = client.http.post(f"/api/sharing/items/{kind}/{item_id}/shares", headers=headers,
                             body=json.dumps({"contactId": contact_id}))
    assert reply.status_code == expect, reply.body
    return body(reply)


def connect_official_account(tenant, template_id: str | None = OA_TEMPLATE) -> None:
    """What an admin sets up: the account's appid and template id in the settings, its secret in the tenant secret."""
    from chalicelib.store import secrets
    from chalicelib.store import tenants as tenant_store
    from chalicelib.store.tenants import Tenant

    tenant.update(actions=[Tenant.settings.official_account_app_id.set(OA_APPID),
                           Tenant.settings.official_account_template_id.set(template_id)])
    secrets.merge(tenant.secret_id, {"wechat_oa_secret": OA_SECRET})
    tenant_store._recent.pop(tenant.tenant_key, None)


@contextmanager
def dynamodb_requests() -> Iterator[list[str]]:
    """Every DynamoDB request the app makes meanwhile (operation names). Counted where every botocore client sends
    its requests, `BaseClient._make_api_call`, so none escapes: PynamoDB's per-model connections, the connections
    made per transaction, and boto3's clients alike (a hook on one client's events would miss the others)."""
    import botocore.client

    seen: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            seen.append(operation_name)
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = original


CHAIN_CORP, CHAIN_USER = "wwchaindemo0001", "liu.jingli"


def chain_contact(tenant, corp_id: str = CHAIN_CORP, user_id: str = CHAIN_USER, name: str = "刘经理",
                  visible_to: tuple[str, ...] = ("zhangsan",)):
    """A 上下游 contact as the chain sync writes it (one write path: contact_writes, source wecom_chain), seen by
    `visible_to`."""
    from chalicelib.directory import contact_writes
    from chalicelib.store import contacts

    contact_id = contacts.chain_contact_id(corp_id, user_id)
    fields = {"name": name, "source": contacts.SOURCE_WECOM_CHAIN, "corp_name": "华东经销商", "org_name": "华东经销商",
              "position": "采购经理", "visible_members": list(visible_to)}
    contact_writes.write_one(contact_writes.Change(
        tenant.tenant_key, contact_id, fields,
        lambda record: contacts.upsert(tenant.tenant_key, contact_id, record, {}), creating=True))
    return contacts.get(tenant.tenant_key, contact_id)
