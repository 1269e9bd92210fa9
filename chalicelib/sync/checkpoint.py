"""Where a run stands — phase, batch in flight, counters, errors — as stored on its record, and the record as the admin
reads it."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

from chalicelib.core import clock
from chalicelib.store import sync_runs
from chalicelib.store.tenants import Tenant

CUSTOMERS, CHAINS, CHAIN_CONTACTS, DONE = "customers", "chains", "chain_contacts", "done"
MAX_ERRORS_KEPT = 20
CUSTOMER_COUNTS = ("added", "updated", "unchanged", "inactivated", "skipped_as_member")
ORGANISATION_COUNTS = ("added", "updated", "unchanged", "inactivated")
CHAIN_CONTACT_COUNTS = ("added", "updated", "unchanged", "inactivated", "corps", "corps_failed")


@dataclass
class Checkpoint:
    """Where a run stands; stored as JSON on the run's record at every checkpoint."""

    phase: str = CUSTOMERS
    after: str | None = None  # the last member of the batches done
    batch: list[str] | None = None  # the batch in flight
    last_batch: bool = False
    skip: int = 0  # pairs of the batch in flight already applied
    applied: bool = False  # the batch in flight is applied; only its clean-up is left
    seen: dict[str, int] = field(default_factory=dict)  # per member of the batch in flight
    skipped_members: list[str] = field(default_factory=list)  # customers who are team members (bounded by the team)
    held_members: list[str] = field(default_factory=list)  # set aside as members before, unmatched so far this run
    chains_done: list[str] = field(default_factory=list)
    shared_after: str | None = None  # the last downstream corp done (上下游 contacts go corp by corp, in corpid order)
    member_after: str | None = None  # the last member done of the corp in flight
    corps_failed: list[str] = field(default_factory=list)  # downstream corps WeCom refused this run
    customers: dict[str, int] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)
    chain_contacts: dict[str, int] = field(default_factory=dict)
    failed_phases: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    deferrals: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "Checkpoint":
        return cls(**json.loads(text)) if text else cls()

    def add_customers(self, counts: Counter) -> None:
        for key, value in counts.items():
            self.customers[key] = self.customers.get(key, 0) + value

    def add_organisations(self, counts: Counter | dict) -> None:
        for key, value in counts.items():
            self.organisations[key] = self.organisations.get(key, 0) + value

    def add_chain_contacts(self, counts: Counter | dict) -> None:
        for key, value in counts.items():
            self.chain_contacts[key] = self.chain_contacts.get(key, 0) + value

    def counts_view(self) -> dict:
        customer_counts = {key: int(self.customers.get(key, 0)) for key in CUSTOMER_COUNTS}
        customer_counts["skipped_as_member"] = len(self.skipped_members)
        chain_contact_counts = {key: int(self.chain_contacts.get(key, 0)) for key in CHAIN_CONTACT_COUNTS}
        chain_contact_counts["corps_failed"] = len(self.corps_failed)
        return {
            "customers": customer_counts,
            "organisations": {key: int(self.organisations.get(key, 0)) for key in ORGANISATION_COUNTS},
            "chain_contacts": chain_contact_counts,
        }

    def record_error(self, phase: str, code: str, message: str) -> None:
        self.errors = (self.errors + [{"phase": phase, "code": code, "message": message[:500],
                                       "at": clock.utcnow().isoformat()}])[-MAX_ERRORS_KEPT:]


def describe_run(item: sync_runs.SyncItem) -> dict:
    checkpoint = Checkpoint.from_json(item.checkpoint)
    return {
        "runId": item.run_id,
        "trigger": item.trigger,
        "scope": json.loads(item.scope or "{}"),
        "status": item.status,
        "startedAt": item.started_at.isoformat() if item.started_at else None,
        "finishedAt": item.finished_at.isoformat() if item.finished_at else None,
        "updatedAt": item.updated_at.isoformat() if item.updated_at else None,
        "invocations": int(item.invocations or 0),
        "phase": checkpoint.phase,
        "counts": checkpoint.counts_view(),
        "errors": [dict(error) for error in item.errors or []],
    }


def latest_runs(tenant: Tenant, limit: int) -> list[dict]:
    return [describe_run(item) for item in sync_runs.latest(tenant.tenant_key, limit)]
