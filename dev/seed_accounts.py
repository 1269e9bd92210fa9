"""The demo's external account, so the local stack's home page can be signed in to with a password.

陈先生 (the WeCom customer the sharing seed shares items with) gets the account `chen.demo` with an initial password
that must be changed at the first sign-in, as an admin's direct assignment would give it. 刘经理 is left without an
account on purpose: the README's walkthrough applies for his, and a maintainer approves it.
Idempotent: an existing account is left as it is (with whatever password it has by now).
"""
from __future__ import annotations

from chalicelib.accounts import open_account
from chalicelib.core.errors import Conflict
from chalicelib.store.tenants import Tenant

ACCOUNT_NAME = "chen.demo"
INITIAL_PASSWORD = "Yunqiao-Demo-2026"


def seed_accounts(tenant: Tenant, customer_external_userid: str) -> None:
    from dev.seed_sharing import ensure_customer

    contact_id = ensure_customer(tenant, customer_external_userid)
    try:
        open_account(tenant, contact_id, actor="seed", account_name=ACCOUNT_NAME, initial_password=INITIAL_PASSWORD)
    except Conflict:
        return
