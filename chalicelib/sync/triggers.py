"""How a sync run is asked for: the admin's 同步 and create_auth (a full run), a change_chain callback (one chain), a
share_chain_change callback (every chain and 上下游 contact, without the customers), the hourly schedule (every tenant
with auto-sync on). A request is a queued message; `chalicelib.sync.run` works on it."""
from __future__ import annotations

import secrets as random
from dataclasses import dataclass

from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.store import queues
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import Tenant


@dataclass(frozen=True)
class Scope:
    """What a run covers: the customers and every chain (a full run), or some chains only (a change_chain event).
    The 上下游 contacts follow the chains: every shared corp's with every chain, the corps of the chains named
    otherwise."""

    customers: bool = True
    chains: tuple[str, ...] | None = None  # None: every chain, and chains WeCom no longer lists are retired

    @property
    def full(self) -> bool:
        return self.customers and self.chains is None

    def to_dict(self) -> dict:
        return {"customers": self.customers, "chains": None if self.chains is None else list(self.chains)}

    @classmethod
    def from_dict(cls, value: dict) -> "Scope":
        chains = value.get("chains")
        return cls(bool(value.get("customers", True)), None if chains is None else tuple(str(c) for c in chains))


FULL = Scope()


def new_run_id() -> str:
    """Time first, so run records sort by when they were requested."""
    return f"{clock.utcnow():%Y%m%dT%H%M%S%fZ}-{random.token_hex(3)}"


def request_body(tenant_key: str, run_id: str, trigger: str, scope: Scope) -> dict:
    return {"tenantKey": tenant_key, "runId": run_id, "trigger": trigger, "scope": scope.to_dict()}


def queue_run(tenant: Tenant, trigger: str, scope: Scope = FULL) -> str:
    """Queue a run for one tenant now; returns its id (the run's record appears when its first invocation starts)."""
    run_id = new_run_id()
    queues.send(queues.SYNC.logical_name, request_body(tenant.tenant_key, run_id, trigger, scope))
    logger.info("sync queued", extra={"runId": run_id, "trigger": trigger, "scope": scope.to_dict()})
    return run_id


def request_sync(tenant: Tenant, trigger: str) -> None:
    """Queue a full run (customers and every chain) for one tenant: create_auth, the admin's 同步."""
    queue_run(tenant, trigger)


def request_chain_sync(tenant: Tenant, chain_id: str) -> None:
    """Queue a re-sync of one chain (a change_chain callback)."""
    queue_run(tenant, "change_chain", Scope(customers=False, chains=(chain_id,)))


def request_shared_sync(tenant: Tenant) -> None:
    """Queue a run of every chain and every shared corp's members (a share_chain_change callback: the app was shared
    with or withdrawn from downstream corps)."""
    queue_run(tenant, "share_chain_change", Scope(customers=False, chains=None))


def schedule_all() -> int:
    """The schedule's fan-out: one message per enabled tenant with auto-sync on, so one tenant's size or failure
    never delays another. Tenants are listed with the tenants table's `byMode` index (a Query per mode)."""
    bodies = [
        request_body(tenant.tenant_key, new_run_id(), "schedule", FULL)
        for tenant in tenant_store.all_tenants()
        if tenant.enabled and tenant.settings.auto_sync_customers
    ]
    queues.send_batch(queues.SYNC.logical_name, bodies)
    logger.info("sync runs scheduled", extra={"tenants": len(bodies)})
    return len(bodies)
