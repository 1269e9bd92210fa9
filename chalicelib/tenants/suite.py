"""The third-party contacts suite's instructions: tickets, and corps authorising or leaving.

create_auth is where a suite tenant is born: the auth code becomes a permanent code (a secret), the tenant gets a
tenantKey, the member who installed the suite becomes its first admin, and its first customer sync and bulk
profile-link write are queued.
"""
from __future__ import annotations

from chalicelib.tenants import onboarding
from chalicelib.core.errors import PermanentError
from chalicelib.invitations import lookup
from chalicelib.core.observability import bind_tenant, logger
from chalicelib.store import roles, secrets, wecom_state
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import SUITE
from chalicelib.wecom.events import (
    CancelAuth,
    ChangeAuth,
    CreateAuth,
    ResetPermanentCode,
    ShareChainChange,
    SuiteTicket,
    WeComEvent,
)
from chalicelib.tenants.wecom_clients import suite_client
from chalicelib.profile_links import runs
from chalicelib.sync import triggers

INSTALLER = "suite-installer"  # who granted the first admin role, as the role grant records it


def process_instruction(suite_id: str, event: WeComEvent) -> None:
    if isinstance(event, SuiteTicket):
        wecom_state.save_suite_ticket(suite_id, event.suite_ticket)
    elif isinstance(event, CreateAuth):
        _authorised(event)
    elif isinstance(event, ResetPermanentCode):
        _reset_permanent_code(event)
    elif isinstance(event, CancelAuth):
        _cancelled(event.corp_id)
    elif isinstance(event, ChangeAuth):
        _changed(event.corp_id)
    elif isinstance(event, ShareChainChange):
        triggers.request_shared_sync(_suite_tenant(event.corp_id))  # the corp's app shares changed
    else:
        logger.info("suite instruction ignored", extra={"kind": event.kind})


def _corp_info(granted: dict) -> tuple[str, str, str | None, str | None]:
    """(corpid, short name, full name, agentid) from a permanent-code or auth-info answer (`auth_corp_info`); the
    short name falls back to the full name, then to the corpid."""
    corp = granted.get("auth_corp_info", {})
    corp_id = corp.get("corpid") or ""
    agents = granted.get("auth_info", {}).get("agent", [])
    return (corp_id, corp.get("corp_name") or corp.get("corp_full_name") or corp_id, corp.get("corp_full_name") or None,
            str(agents[0]["agentid"]) if agents else None)


def _authorised(event: CreateAuth) -> None:
    granted = suite_client().permanent_code(event.auth_code)
    corp_id, corp_name, corp_full_name, agent_id = _corp_info(granted)
    tenant = tenant_store.find_by_corp(corp_id)
    if tenant is not None:
        secrets.merge(tenant.secret_id, {"permanent_code": granted["permanent_code"]})
        tenant_store.set_corp_info(tenant, corp_name, agent_id, corp_full_name)  # enables it again too
    else:
        tenant = onboarding.create_suite_tenant(
            corp_id=corp_id,
            corp_name=corp_name,
            corp_full_name=corp_full_name,
            agent_id=agent_id,
            permanent_code=granted["permanent_code"],
        )
    bind_tenant(tenant.tenant_key)
    logger.info("suite authorised", extra={"corpId": corp_id})
    _first_admin(tenant, granted.get("auth_user_info") or {})

    triggers.request_sync(tenant, trigger="create_auth")
    runs.start_bulk_run(tenant, trigger="create_auth")


def _first_admin(tenant: tenant_store.Tenant, installer: dict) -> None:
    """The member who installed the suite (`auth_user_info`) becomes the tenant's first admin, so somebody can run
    its sync and open its console; a tenant that already has an admin keeps exactly the admins it has."""
    user_id = installer.get("userid")
    if not user_id:
        logger.warning("suite authorised without an installer userid: no first admin named")
        return
    if roles.holders(tenant.tenant_key, roles.ADMIN):
        return
    roles.grant(tenant.tenant_key, user_id, roles.ADMIN, INSTALLER)
    logger.info("suite installer named first admin", extra={"userId": user_id})


def _suite_tenant(corp_id: str) -> tenant_store.Tenant:
    tenant = tenant_store.find_by_corp(corp_id)
    if tenant is None or tenant.mode != SUITE:
        raise PermanentError("tenant_not_found", f"no suite tenant for corp {corp_id}")
    bind_tenant(tenant.tenant_key)
    return tenant


def _reset_permanent_code(event: ResetPermanentCode) -> None:
    granted = suite_client().permanent_code(event.auth_code)
    tenant = _suite_tenant(granted.get("auth_corp_info", {}).get("corpid") or event.corp_id)
    secrets.merge(tenant.secret_id, {"permanent_code": granted["permanent_code"]})


def _cancelled(corp_id: str) -> None:
    """The corp removed the suite: the tenant is disabled (schedules skip it), its data stays."""
    tenant_store.set_enabled(_suite_tenant(corp_id), False)


def _changed(corp_id: str) -> None:
    """The corp changed the suite's authorisation: read its details again (name, agent) and keep it enabled."""
    tenant = _suite_tenant(corp_id)
    answer = suite_client().auth_info(corp_id, secrets.get(tenant.secret_id)["permanent_code"])
    _, corp_name, corp_full_name, agent_id = _corp_info(answer)
    tenant_store.set_corp_info(tenant, corp_name, agent_id, corp_full_name)
    lookup.index_tenant(tenant)  # the renamed organisation is findable under its new name
