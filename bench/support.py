"""What the two-tenant benches (`bench_directory.py`, `bench_home.py`) share: the emulator, bulk writes, request
counting and the alternating rounds.

Those benches show that a page's cost does not grow with the tenant: one emulator holds a small and a large tenant,
rounds alternate between them, and the medians are compared within the run (the machine is noisy).

The emulator is `dev.emulator`'s, as in the tests: moto server whose table Query reads the queried partition alone,
as DynamoDB does (moto walks and sorts every item of the table, so the large tenant would look slower only because
moto is). `--moto-as-is` turns that correction off, to see moto's own cost.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dev.emulator import LOCAL_CREDENTIALS, create_stage_resources, free_port, start_emulator, stop_process

if TYPE_CHECKING:
    from chalice.test import Client
    from pynamodb.models import Model

    from chalicelib.store.tenants import Tenant

BATCH = 25  # BatchWriteItem's limit per request
LATENCY_TARGET = 1.2  # the large tenant's median latency over the small one's, at most
BENCH_SECRETS = {"contacts_secret": "bench", "customer_secret": "bench", "app_secret": "bench",
                 "callback_token": "bench", "callback_aes_key": "A" * 43}


def two_tenant_parser(description: str, unit: str) -> argparse.ArgumentParser:
    """The options every two-tenant bench takes; `unit` names what the tenants' sizes count."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--small", type=int, default=1000, help=f"{unit} in the small tenant")
    parser.add_argument("--large", type=int, default=100000, help=f"{unit} in the large tenant")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--moto-as-is", action="store_true", help="no partition-local Query in the emulator")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny tenants and two rounds, to show the bench still runs: its request counts are "
                             "judged, its latency ratio (noise at these sizes) is not")
    return parser


# --- the emulator ---------------------------------------------------------------------------------------------------
@contextmanager
def local_stage(moto_as_is: bool) -> Iterator[None]:
    """This process pointed at a fresh emulator holding the local stage's tables and queues, stopped on the way out."""
    port = free_port()
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.update({
        "YQ_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "YQ_PUBLIC_BASE_URL": "https://yq.bench",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    })
    emulator = start_emulator(port, moto_query=moto_as_is)
    try:
        create_stage_resources("local")
        yield
    finally:
        stop_process(emulator)  # a large heap can keep moto's server from stopping promptly


# --- the data -------------------------------------------------------------------------------------------------------
def create_tenant(label: str, corp_id: str) -> Tenant:
    """A self-built tenant named after its label; its secrets are placeholders, since no bench here reaches WeCom."""
    from chalicelib.tenants import onboarding

    return onboarding.create_self_built(name=f"bench {label}", corp_id=corp_id, agent_id="1000002",
                                     wecom_secrets=BENCH_SECRETS)


class Writer:
    """BatchWriteItem in requests of 25, with progress lines: item by item through PynamoDB, the large tenant would
    take far longer to fill than to measure."""

    def __init__(self, label: str, total: int) -> None:
        from chalicelib.core.aws import client

        self.ddb = client("dynamodb")
        self.label, self.total, self.done = label, total, 0
        self.pending: list[tuple[str, dict]] = []
        self.started = self.last_report = time.monotonic()

    def put(self, table: str, item: dict) -> None:
        """Queue one item (DynamoDB's attribute-value form) for `table`."""
        self.pending.append((table, item))
        if len(self.pending) == BATCH:
            self.flush()

    def put_row(self, row: Model) -> None:
        """Queue one PynamoDB model instance for its own table."""
        self.put(row.Meta.table_name, row.serialize())

    def flush(self) -> None:
        """Write what is queued, retrying what DynamoDB leaves unprocessed."""
        if not self.pending:
            return
        request: dict[str, list] = {}
        for table, item in self.pending:
            request.setdefault(table, []).append({"PutRequest": {"Item": item}})
        while request:
            request = self.ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        self.done += len(self.pending)
        self.pending = []
        now = time.monotonic()
        if now - self.last_report >= 5 or self.done == self.total:
            self.last_report = now
            print(f"    {self.label}: {self.done:,}/{self.total:,} items ({now - self.started:.0f}s)", flush=True)


# --- the measurement ------------------------------------------------------------------------------------------------
class RequestCounter:
    """DynamoDB requests made through PynamoDB, as (operation, table): a botocore hook (`before-parameter-build`, once
    per API call) on the process's one botocore session (`chalicelib.core.aws`). Create it before the first request,
    so that the DynamoDB client is made with the hook."""

    def __init__(self) -> None:
        from chalicelib.core import aws

        self.calls: list[tuple[str, str]] = []
        aws.session().register("before-parameter-build.dynamodb", self._seen)

    def _seen(self, model, params, **_kwargs) -> None:
        self.calls.append((model.name, params.get("TableName", "")))


def alternating(labels: Iterable[str], rounds: int) -> Iterator[str]:
    """The labels `rounds` times, in reverse order every other round, so that neither tenant always goes first."""
    order = list(labels)
    for round_number in range(rounds):
        yield from order if round_number % 2 == 0 else reversed(order)


def timed_get(client: Client, path: str, headers: dict[str, str], counter: RequestCounter) -> float:
    """GET `path` through Chalice's test client, which must answer 200: the seconds it took. Afterwards the counter
    holds this request's DynamoDB calls alone."""
    counter.calls.clear()
    started = time.perf_counter()
    reply = client.http.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    assert reply.status_code == 200, reply.body
    return elapsed


def latency_met(timings: dict[str, dict[str, list[float]]], sizes: dict[str, int], unit: str, smoke: bool) -> bool:
    """Print, per request, the large tenant's median latency over the small one's (`timings[label][request]`, in
    seconds) against the target; whether every ratio meets it (a smoke run's tiny tenants say nothing of it)."""
    worst = 0.0
    for name in timings["large"]:
        ratio = statistics.median(timings["large"][name]) / statistics.median(timings["small"][name])
        worst = max(worst, ratio)
        print(f"latency ratio {sizes['large']:,} / {sizes['small']:,} {unit}, {name}: {ratio:.2f} "
              f"(target ≤ {LATENCY_TARGET}{'; not judged in a smoke run' if smoke else ''})")
    return smoke or worst <= LATENCY_TARGET

