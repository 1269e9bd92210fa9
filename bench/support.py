"""What the two-tenant benches (`bench_directory.py`, `bench_home.py`) share: the emulator, bulk writes, request
counting and the alternating rounds.

Those benches show that a page's cost does not grow with the tenant: one emulator holds a small and a large tenant,
rounds alternate between them, and the medians are compared within the run (the machine is noisy).

The emulator is moto server, as in the tests, with one correction. moto answers a Query on a table by walking and
sorting every item of the table (`Table.all_items`), so its Query cost grows with the table; DynamoDB reads the one
partition. Uncorrected, the large tenant would look slower only because moto is. `serve_emulator` serves a table
Query from the queried partition alone (the same items in the same order; index Queries are left as they are). It
runs in the emulator's own process, started as `python -m bench.support PORT` from the repo root.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dev.emulator import LOCAL_CREDENTIALS, create_stage_resources, free_port, stop_process, wait_for_http
from dev.emulator import start_emulator as start_moto

if TYPE_CHECKING:
    from chalice.test import Client
    from pynamodb.models import Model

    from chalicelib.store.tenants import Tenant

ROOT = Path(__file__).resolve().parents[1]
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
    return parser


# --- the emulator ---------------------------------------------------------------------------------------------------
def serve_emulator(port: int) -> None:
    """moto server whose table Query reads only the queried partition (see the module's docstring)."""
    from moto.dynamodb.models.table import Table
    from moto.server import main as moto_main

    scope = threading.local()
    all_items, query = Table.all_items, Table.query

    def partition_items(self):
        partition = getattr(scope, "partition", None)
        if partition is None:
            return all_items(self)
        return sorted(partition.values(), key=lambda item: item.range_key) if self.range_key_attr else [partition]

    def partition_query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key not in self.items:
            return query(self, hash_key, *args, **kwargs)
        scope.partition = self.items[hash_key]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            scope.partition = None

    Table.all_items, Table.query = partition_items, partition_query
    moto_main(["-H", "127.0.0.1", "-p", str(port)])


def start_emulator(port: int, as_is: bool) -> subprocess.Popen:
    """The emulator as a child process, answering: moto as is, or with `serve_emulator`'s partition-local Query."""
    if as_is:
        return start_moto(port)
    process = subprocess.Popen([sys.executable, "-m", "bench.support", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               env={**os.environ, **LOCAL_CREDENTIALS})
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


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
    emulator = start_emulator(port, moto_as_is)
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


def print_latency_ratios(timings: dict[str, dict[str, list[float]]], sizes: dict[str, int], unit: str) -> float:
    """Print, per request, the large tenant's median latency over the small one's (`timings[label][request]`, in
    seconds) against the target; returns the worst ratio."""
    worst = 0.0
    for name in timings["large"]:
        ratio = statistics.median(timings["large"][name]) / statistics.median(timings["small"][name])
        worst = max(worst, ratio)
        print(f"latency ratio {sizes['large']:,} / {sizes['small']:,} {unit}, {name}: {ratio:.2f} "
              f"(target ≤ {LATENCY_TARGET})")
    return worst


if __name__ == "__main__":
    serve_emulator(int(sys.argv[1]))
