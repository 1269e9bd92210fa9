"""The demo's external accounts, so the local stack's home page can be signed in to with a password.

陈先生 (the WeCom customer the sharing seed shares items with) gets the account `chen.demo` with an initial password
that must be changed at the first sign-in, as an admin's direct assignment would give it. 刘经理 is left without an
account on purpose: the README's walkthrough applies for his, and a maintainer approves it. 陈总 (a contact 张三 added
by hand, so no WeChat is known for him) gets `chenzong.demo` with the same initial password: the README's walkthrough
binds a WeChat to it in the settings (陈先生's WeChat is known already, from WeCom's customer record).
Idempotent: an existing account is left as it is (with whatever password it has by now).
"""
from __future__ import annotations

from chalicelib.accounts import open_account
from chalicelib.core.errors import Conflict
from chalicelib.store.tenants import Tenant

ACCOUNT_NAME = "chen.demo"
INITIAL_PASSWORD = "Yunqiao-Demo-2026"
MANUAL_CONTACT, MANUAL_ACCOUNT_NAME = "ct-demo000000000003", "chenzong.demo"  # 陈总, from seed_directory


def seed_accounts(tenant: Tenant, customer_external_userid: str) -> None:
    from dev.seed_sharing import ensure_customer

    contact_id = ensure_customer(tenant, customer_external_userid)
    for owner, name in ((contact_id, ACCOUNT_NAME), (MANUAL_CONTACT, MANUAL_ACCOUNT_NAME)):
        try:
            open_account(tenant, owner, actor="seed", account_name=name, initial_password=INITIAL_PASSWORD)
        except Conflict:
            continue
