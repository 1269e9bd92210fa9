"""The external home (与我协作) at 1,000 and at 100,000 shared items in the tenant: latency and DynamoDB requests.

The claims under test: one home load costs at most 2 DynamoDB requests (the session's GetItem, then the contact, its
account and its home summary in one BatchGetItem), and a list page one Query per kind it reads, whatever the number
of items in the tenant — so latency does not grow with the tenant (target: large/small median latency ≤ 1.2).
Two tenants live in one emulator, one with `--small` and one with `--large` shares; in both the measured contact has
the same `--mine` items shared with them (through the real sharing code) and every other share goes to one of
`--contacts` other contacts (written directly), so the only difference is the size of the tenant around the contact.

Each round requests, through the app's real routes (Chalice's test client, session resolution included): the home,
a task list page (`kind=task`, one Query) and a section page (`section=tasks`, project + task merged: two Queries).
Rounds alternate between the tenants; medians are compared within the run (the machine is noisy). DynamoDB requests
are counted with a botocore hook (`before-parameter-build`, once per API call) on every session PynamoDB creates.

The emulator is moto server with one correction, as in `bench_directory.py`: moto answers a table Query by walking
every item of the table, DynamoDB by reading one partition; the emulator process here serves a table Query from the
queried partition alone (same items, same order). `--moto-as-is` turns that off. Setup writes the other shares with
BatchWriteItem (25 per request; three rows per share: the item, its sharer row, the contact's feed row) and prints
progress: 100,000 shares take a few minutes.

Run: .venv/bin/python bench/bench_home.py [--small 1000] [--large 100000] [--mine 50] [--contacts 500] [--rounds 30]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev.emulator import LOCAL_CREDENTIALS, create_stage_resources, free_port, wait_for_http  # noqa: E402

OWNER = "benchowner"
KINDS = ("project", "task", "approval", "form", "document", "schedule", "crm_record")
BENCH_SECRETS = {"contacts_secret": "bench", "customer_secret": "bench", "app_secret": "bench",
                 "callback_token": "bench", "callback_aes_key": "A" * 43}
PAGE = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000, help="shares in the small tenant")
    parser.add_argument("--large", type=int, default=100000, help="shares in the large tenant")
    parser.add_argument("--mine", type=int, default=50, help="items shared with the measured contact")
    parser.add_argument("--contacts", type=int, default=500, help="other contacts the rest is shared with")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--moto-as-is", action="store_true", help="no partition-local Query in the emulator")
    parser.add_argument("--serve-emulator", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the emulator ---------------------------------------------------------------------------------------------------
def serve_emulator(port: int) -> None:
    """moto server whose table Query reads only the queried partition (see the docstring)."""
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
    command = ([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)] if as_is
               else [sys.executable, str(Path(__file__).resolve()), "--serve-emulator", str(port)])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               env={**os.environ, **LOCAL_CREDENTIALS})
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


# --- the data -------------------------------------------------------------------------------------------------------
class Writer:
    """BatchWriteItem in requests of 25 (serialised PynamoDB rows), with progress lines."""

    def __init__(self, label: str, total: int) -> None:
        from chalicelib.aws import client

        self.ddb = client("dynamodb")
        self.label, self.total, self.done = label, total, 0
        self.pending: list[tuple[str, dict]] = []
        self.started = self.last_report = time.monotonic()

    def put(self, row) -> None:
        self.pending.append((row.Meta.table_name, row.serialize()))
        if len(self.pending) == 25:
            self.flush()

    def flush(self) -> None:
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
            print(f"    {self.label}: {self.done:,}/{self.total:,} rows ({now - self.started:.0f}s)", flush=True)


def item_row(tenant_key: str, kind: str, item_id: str):
    from chalicelib.store import shares

    return shares.ItemRow(shares.item_pk(tenant_key, kind, item_id), shares.ITEM_SK, kind=kind, item_id=item_id,
                          title=f"{kind} {item_id}", summary="基准测试条目" * 10, status="进行中",
                          url=f"https://eteams.example/{kind}/{item_id}", owner_id=OWNER, owner_name="基准",
                          updated_at="2025-03-01T08:00:00Z", members={}, version=1, registered_by=OWNER,
                          registered_at=shares.stamp())


def fill_tenant(tenant_key: str, total: int, mine: int, contacts: int) -> str:
    """The measured contact (with `mine` items shared through the sharing code) and `total - mine` other shares,
    written directly. Returns the measured contact's id."""
    from chalicelib.identity import Caller
    from chalicelib.sharing import items
    from chalicelib.sharing.kinds import render
    from chalicelib.store import contacts as contact_store
    from chalicelib.store import members, shares

    members.upsert(tenant_key, OWNER, "基准", [1])
    me = contact_store.Contact(tenant_key, "ct-benchme000000001", name="被测联系人", source="manual",
                               visible_members=[OWNER], adder_id=OWNER)
    me.save()
    owner = Caller(tenant_key, OWNER)
    for number in range(mine):
        kind = KINDS[number % len(KINDS)]
        item_row(tenant_key, kind, f"mine-{number:05d}").save()
        items.share(owner, kind, f"mine-{number:05d}", me)
    others = total - mine
    writer = Writer(f"{tenant_key} ({others:,} other shares)", others * 3)
    for number in range(others):
        kind, item_id = KINDS[number % len(KINDS)], f"other-{number:07d}"
        contact_id = f"ct-bench{number % contacts:012d}"
        item = item_row(tenant_key, kind, item_id)
        shared_at = shares.stamp()
        feed_sk = shares.feed_sk(kind, shared_at, item_id)
        writer.put(item)
        writer.put(shares.SharerRow(item.pk, shares.sharer_sk(contact_id), contact_id=contact_id,
                                    shared_at=shared_at, shared_by=OWNER, feed_sk=feed_sk, unread=0))
        writer.put(shares.FeedRow(shares.contact_pk(tenant_key, contact_id), feed_sk, kind=kind, item_id=item_id,
                                  shared_at=shared_at, item=render(item), item_version=1))
    writer.flush()
    return me.contact_id


# --- the measurement ------------------------------------------------------------------------------------------------
class RequestCounter:
    """DynamoDB requests made through PynamoDB: a botocore hook (`before-parameter-build`, once per API call) on every
    session PynamoDB creates (one per thread and connection; installed before the first request)."""

    def __init__(self) -> None:
        from pynamodb.connection import base

        self.calls: list[str] = []
        make_session = base.get_session

        def counted_session():
            session = make_session()
            session.register("before-parameter-build.dynamodb", self._seen)
            return session

        base.get_session = counted_session

    def _seen(self, model, params, **_kwargs) -> None:
        self.calls.append(model.name)


def measure(args: argparse.Namespace) -> int:
    from chalice.test import Client

    counter = RequestCounter()
    from app import app
    from chalicelib import sessions, tenants

    sizes = {"small": args.small, "large": args.large}
    headers = {}
    for label, size in sizes.items():
        tenant = tenants.create_self_built(name=f"bench {label}", corp_id=f"wwbenchhome{label}", agent_id="1000002",
                                           wecom_secrets=BENCH_SECRETS)
        print(f"  filling {label} tenant {tenant.tenant_key}", flush=True)
        contact_id = fill_tenant(tenant.tenant_key, size, args.mine, args.contacts)
        token = sessions.issue(tenant.tenant_key, sessions.CONTACT, contact_id, "wecom_oauth").token
        headers[label] = {"Authorization": f"Bearer {token}"}

    paths = {"home": "/api/external/home", "list": f"/api/external/items?kind=task&limit={PAGE}",
             "section": f"/api/external/items?section=tasks&limit={PAGE}"}
    timings = {label: {name: [] for name in paths} for label in sizes}
    requests = {label: {name: [] for name in paths} for label in sizes}
    with Client(app, stage_name="local") as client:
        for label in sizes:  # warm every path (and the tenant cache) before measuring
            for path in paths.values():
                assert client.http.get(path, headers=headers[label]).status_code == 200
        for round_number in range(args.rounds):
            order = list(sizes) if round_number % 2 == 0 else list(reversed(sizes))
            for label in order:
                for name, path in paths.items():
                    counter.calls.clear()
                    started = time.perf_counter()
                    reply = client.http.get(path, headers=headers[label])
                    elapsed = time.perf_counter() - started
                    assert reply.status_code == 200, reply.body
                    timings[label][name].append(elapsed)
                    requests[label][name].append(len(counter.calls))
        home = json.loads(client.http.get(paths["home"], headers=headers["large"]).body)
        assert sum(home["counts"].values()) == args.mine, home["counts"]

    print()
    print(f"external home, the contact with {args.mine} items shared; medians of {args.rounds} rounds"
          f"{' (moto as is)' if args.moto_as_is else ''}")
    print(f"{'request':8} {'shares in tenant':>17} {'latency ms':>11} {'DynamoDB requests':>18}")
    for name in paths:
        for label, size in sizes.items():
            print(f"{name:8} {size:>17,} {statistics.median(timings[label][name]) * 1000:>11.1f} "
                  f"{statistics.median(requests[label][name]):>18.0f}")
    print()
    worst = 0.0
    for name in paths:
        ratio = statistics.median(timings["large"][name]) / statistics.median(timings["small"][name])
        worst = max(worst, ratio)
        print(f"latency ratio {args.large:,} / {args.small:,} shares, {name}: {ratio:.2f} (target ≤ 1.2)")
    home_requests = max(max(requests[label]["home"]) for label in sizes)
    same = all(requests["large"][name] == requests["small"][name] for name in paths)
    print(f"home: at most {home_requests} DynamoDB requests (target ≤ 2); requests identical at both sizes: {same}")
    return 0 if worst <= 1.2 and home_requests <= 2 and same else 1


def main() -> int:
    args = parse_args()
    if args.serve_emulator:
        serve_emulator(args.serve_emulator)
        return 0
    port = free_port()
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.update({
        "YQ_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "YQ_PUBLIC_BASE_URL": "https://yq.bench",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    })
    emulator = start_emulator(port, args.moto_as_is)
    try:
        create_stage_resources("local")
        return measure(args)
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
