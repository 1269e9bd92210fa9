"""Seed the local stack: the demo tenant bound to the simulator's demo corp, and the suite's secret.

Reads the same scenario file the simulator loads, so the tenant's secrets and the simulated corp always agree.
Idempotent: a second `make run` finds the tenant and leaves it as it is.
"""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.core import config
from chalicelib.tenants import onboarding
from chalicelib.core.errors import Conflict
from chalicelib.store import secrets
from chalicelib.store import tenants as tenant_store

DEMO_TENANT_KEY = "tndemo0001"
LOCAL_ADMIN_TOKEN = "local-admin-token"  # the demo tenant's admin token: the local stack only, never deployed


def _secret_of(corp: dict, kind: str) -> dict:
    return next(s for s in corp["secrets"] if s["kind"] == kind)


def seed(scenario_path: Path, tenant_key: str = DEMO_TENANT_KEY) -> tenant_store.Tenant:
    """The tenant bound to the scenario's first corp (tests pass a fresh key each), and the suite's secret."""
    scenario = json.loads(Path(scenario_path).read_text(encoding="utf-8"))
    corp = scenario["corps"][0]
    app_secret = _secret_of(corp, "app")
    try:
        tenant = onboarding.create_self_built(
            tenant_key=tenant_key,
            name=corp["corp_name"],
            corp_id=corp["corpid"],
            corp_name=corp["corp_name"],
            corp_full_name=corp.get("corp_full_name"),
            agent_id=str(app_secret["agentid"]),
            auto_sync_customers=True,
            public_base_url=config.public_base_url(),
            wecom_secrets={
                "contacts_secret": _secret_of(corp, "contacts")["secret"],
                "customer_secret": _secret_of(corp, "externalcontact")["secret"],
                "app_secret": app_secret["secret"],
                "callback_token": corp["callback"]["token"],
                "callback_aes_key": corp["callback"]["encoding_aes_key"],
                "admin_token": LOCAL_ADMIN_TOKEN,
            },
        )
    except Conflict:
        tenant = tenant_store.get(tenant_key)
    for suite in scenario.get("suites", [])[:1]:
        secrets.put(
            config.suite_secret_id(),
            {
                "suite_id": suite["suite_id"],
                "suite_secret": suite["suite_secret"],
                "callback_token": suite["callback"]["token"],
                "callback_aes_key": suite["callback"]["encoding_aes_key"],
            },
        )
    if tenant_key == DEMO_TENANT_KEY:  # the local stack's demo data (tests build their own)
        seed_demo_data(tenant, scenario)
    return tenant


def seed_demo_data(tenant: tenant_store.Tenant, scenario: dict) -> None:
    """The demo directory, then 陈先生's account, then the official account and the items shared with the contacts
    that have accounts (so the order matters), then the 上下游 contacts (海川物流's 周经理, 星河贸易's people)."""
    from dev.seed_accounts import seed_accounts
    from dev.seed_directory import seed_directory
    from dev.seed_sharing import DEMO_CUSTOMER, connect_official_account, seed_follower_notice, seed_shared_items

    seed_directory(tenant)
    seed_accounts(tenant, DEMO_CUSTOMER)
    for account in scenario.get("official_accounts", [])[:1]:
        connect_official_account(tenant, account)
    seed_shared_items(tenant)
    seed_chain_contacts(tenant)
    if scenario.get("official_accounts"):
        seed_follower_notice(tenant)


def seed_chain_contacts(tenant: tenant_store.Tenant) -> None:
    """A sync run of the chains and the shared corps' members, made here rather than waiting for the schedule: the
    toolbar of a 上下游 chat finds 周经理 as soon as the stack is up. A real run (lease, record, checkpoints): a
    second `make run` finds everything current."""
    from chalicelib.sync import run as sync_run
    from chalicelib.sync.triggers import Scope, new_run_id, request_body

    body = request_body(tenant.tenant_key, new_run_id(), "seed", Scope(customers=False, chains=None))
    sync_run.process(body, sync_run.Deadline(lambda: 600_000))
