"""The demo tenant's official account and shared items, so the local stack's external home shows content.

- The scenario's official account (appid and template id in the tenant settings, its secret in the tenant secret):
  WeChat sign-in and template messages work against the simulator.
- 陈先生 (`wx-wmYQdemoa9f7e97965d6cf799a529102`, the WeCom customer followed by zhangsan and lisi, who follows the
  official account) is synced from the simulator if the directory does not have him yet, and zhangsan shares a
  project, two tasks, an approval, a form, a document, a schedule and a CRM record with him — and with every demo
  contact that has an external account (the accounts seed opens one), whoever it is.
- 林女士 (`wmYQdemo9ab62b5ef34a985438bfdf7e`) follows the official account but never signed in: the followers are
  reconciled from the simulated account (so her openid is known by her unionid), then zhangsan shares the site-survey
  schedule with her — and she is sent a template message (the pump delivers it; see `/__sim__/oa/messages`).
- For the chat toolbar (docs/toolbar.md): a project and a task of zhangsan's that are NOT shared, so that the toolbar
  opened for 陈先生 has a project to bind and a task to send that then appears on his home.
Idempotent: an item already registered is left as it is, a contact already sharing an item is not shared it again.
"""
from __future__ import annotations

from chalicelib.auth.identity import Caller
from chalicelib.followers import reconcile
from chalicelib.sync.run import Deadline
from chalicelib.tenants import official_account
from chalicelib.sharing import items
from chalicelib.store import contacts, roles, secrets, shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import Tenant

DEMO_CUSTOMER = "wmYQdemoa9f7e97965d6cf799a529102"
DEMO_FOLLOWER = "wmYQdemo9ab62b5ef34a985438bfdf7e"  # 林女士: follows the official account, never signed in
FOLLOWER_ITEM = ("schedule", "demo-s-001")
OWNER = "zhangsan"
FORM_FIELDS = [
    {"name": "company", "label": "公司名称", "type": "text", "required": True},
    {"name": "stores", "label": "门店数量", "type": "number", "required": True},
    {"name": "visit", "label": "期望勘察日期", "type": "date", "required": False},
    {"name": "budget", "label": "预算区间", "type": "select", "required": False,
     "options": ["50 万以下", "50–200 万", "200 万以上"]},
    {"name": "notes", "label": "其他需求", "type": "textarea", "required": False},
]
ITEMS = [
    ("project", "demo-p-001", {"title": "华东门店数字化升级", "status": "进行中",
                               "summary": "20 家门店的收银、监控与会员系统升级，分三期交付。",
                               "members": {"lisi": "edit"}}),
    ("task", "demo-t-001", {"title": "提交门店平面图", "status": "待处理", "summary": "请提供 CAD 或 PDF 格式的平面图。"}),
    ("task", "demo-t-002", {"title": "确认一期安装排期", "status": "进行中", "summary": "一期 6 家门店，建议 3 月下旬。"}),
    ("approval", "demo-a-001", {"title": "设备采购报价审批", "status": "审批中", "summary": "报价合计 86.4 万元。"}),
    ("form", "demo-f-001", {"title": "门店升级需求调研表", "status": "收集中", "form": {"fields": FORM_FIELDS},
                            "members": {"lisi": "edit"}}),
    ("document", "demo-d-001", {"title": "项目实施方案 v2", "status": "已发布", "summary": "实施范围、里程碑与验收标准。"}),
    ("schedule", "demo-s-001", {"title": "现场勘察：南京西路店", "status": "已确认", "summary": "3 月 12 日 周三 10:00"}),
    ("crm_record", "demo-c-001", {"title": "商机：华东区门店升级", "status": "方案阶段", "summary": "预计金额 260 万元。"}),
]

# Registered only: what the chat toolbar binds and sends in `make run`.
TOOLBAR_ITEMS = [
    ("project", "demo-p-002", {"title": "华东二期门店扩展", "status": "筹备中", "summary": "二期 14 家门店，预计下半年启动。"}),
    ("task", "demo-t-003", {"title": "准备一期验收资料", "status": "待处理",
                            "summary": "验收清单、设备序列号与培训签到表。"}),
]


def connect_official_account(tenant: Tenant, account: dict) -> None:
    """The scenario's official account for the tenant: appid and template id in the settings, secret in the secret."""
    template = (account.get("templates") or [{}])[0].get("template_id")
    tenant.update(actions=[Tenant.settings.official_account_app_id.set(account["appid"]),
                           Tenant.settings.official_account_template_id.set(template)])
    secrets.merge(tenant.secret_id, {"wechat_oa_secret": account["secret"]})
    if account.get("callback"):
        official_account.store_callback_keys(tenant, account["callback"]["token"],
                                             account["callback"]["encoding_aes_key"])


def ensure_customer(tenant: Tenant, external_userid: str) -> str:
    """The customer's contact id, syncing the customer from the simulator first when the directory lacks it."""
    from chalicelib.directory import customers
    from chalicelib.tenants.wecom_clients import client_for_tenant

    contact_id = contacts.customer_contact_id(external_userid)
    if contacts.get(tenant.tenant_key, contact_id) is None:
        customers.refresh(tenant, client_for_tenant(tenant), external_userid)
    return contact_id


def _demo_contacts(tenant: Tenant) -> list[contacts.Contact]:
    """陈先生 (synced from the simulator when missing) and every contact with an opened account (a Query: dev only)."""
    chen_id = ensure_customer(tenant, DEMO_CUSTOMER)
    found = {chen_id: contacts.get(tenant.tenant_key, chen_id)}
    opened = contacts.Contact.account_status == contacts.ACCOUNT_OPENED
    for contact in contacts.Contact.query(tenant.tenant_key, filter_condition=opened):
        found.setdefault(contact.contact_id, contact)
    return [contact for contact in found.values() if contact is not None]


def seed_shared_items(tenant: Tenant) -> list[str]:
    """Register the demo items and share them with the demo contacts; returns the contacts' ids."""
    tenant = tenant_store.get(tenant.tenant_key)
    owner = Caller(tenant.tenant_key, OWNER, roles.roles_of(tenant.tenant_key, OWNER))
    for kind, item_id, fields in ITEMS + TOOLBAR_ITEMS:
        if shares.get_item(tenant.tenant_key, kind, item_id) is None:
            items.register(owner, kind, item_id, fields)
    targets = _demo_contacts(tenant)
    for contact in targets:
        for kind, item_id, _fields in ITEMS:
            _item, sharer = shares.item_and_sharer(tenant.tenant_key, kind, item_id, contact.contact_id)
            if sharer is None:
                items.share(owner, kind, item_id, contact)
    return [contact.contact_id for contact in targets]


def seed_follower_notice(tenant: Tenant) -> dict | None:
    """Learn the account's followers now (the run the schedule would make, done in this process), then share the
    site-survey schedule with 林女士: the share's answer says the template message was queued. None when she has it
    already (a second seed)."""
    tenant = tenant_store.get(tenant.tenant_key)
    run_id = reconcile.start(tenant, "seed")
    reconcile.process({"tenantKey": tenant.tenant_key, "runId": run_id}, Deadline(lambda: 3_600_000))
    contact_id = ensure_customer(tenant, DEMO_FOLLOWER)
    kind, item_id = FOLLOWER_ITEM
    _item, sharer = shares.item_and_sharer(tenant.tenant_key, kind, item_id, contact_id)
    if sharer is not None:
        return None
    owner = Caller(tenant.tenant_key, OWNER, roles.roles_of(tenant.tenant_key, OWNER))
    shared, _created = items.share_with(owner, kind, item_id, contact_id)
    return shared["notification"]
