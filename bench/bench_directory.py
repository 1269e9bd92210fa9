"""The front list (外部互联) at 1,000 and at 100,000 contacts in the tenant: latency and DynamoDB requests per page.

The claim under test: a page of a member's front list costs one DynamoDB Query whatever the size of the directory,
so its latency does not grow with the tenant (target: large/small median latency ≤ 1.2). Two tenants live in one
emulator, one with `--small` contacts and one with `--large`; in both the measured member relates to the same
`--mine` contacts (spread over ten organisations) and every other contact belongs to other members (an adder and a
visible member each), so the only difference is the size of the directory around the member.

Each round requests, through the app's real route (`GET /api/directory/contacts` via Chalice's test client, session
resolution included): the first page, a page deep in the list (from a cursor), and a search page (`q`). Rounds
alternate between the tenants and the medians are compared within the run (the machine is noisy). DynamoDB requests
are counted with a botocore hook on PynamoDB's sessions: per page, the session's GetItem, the caller's
roles Query and the list's one Query on `contact-access` (plus, once a minute, the tenant's GetItem).

The emulator: moto server, as in the tests, with one correction. moto answers a Query on a table by walking and
sorting every item of the table (`Table.all_items`), so its Query cost grows with the table, unlike DynamoDB, which
reads the one partition. The emulator process here serves a table Query from that partition alone (the same items
in the same order; index Queries are left as they are) — the same kind of correction as `bench_profile_links.py`'s
SQS double. `--moto-as-is` turns it off, to see moto's own cost: every page then costs a walk of the whole
`contact-access` table (measured: ~2 s per page with 33,000 items in it, against ~0.2 s corrected with 300,000),
for both tenants alike, since they share the table.

Setup writes the items directly with BatchWriteItem (25 per request), printing progress: 100,000 contacts and their
200,000 front-list entries take a few minutes.

Run: .venv/bin/python bench/bench_directory.py [--small 1000] [--large 100000] [--mine 500] [--rounds 30]
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

ME = "benchuser"
ORGANISATIONS = 10
OTHER_MEMBERS = 200
PAGE = 50
BENCH_SECRETS = {"contacts_secret": "bench", "customer_secret": "bench", "app_secret": "bench",
                 "callback_token": "bench", "callback_aes_key": "A" * 43}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100000)
    parser.add_argument("--mine", type=int, default=500, help="contacts the measured member relates to")
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
def s(value: str) -> dict:
    return {"S": value}


class Writer:
    """BatchWriteItem in requests of 25, with progress lines."""

    def __init__(self, label: str, total: int) -> None:
        from chalicelib.aws import client

        self.ddb = client("dynamodb")
        self.label, self.total, self.done = label, total, 0
        self.pending: list[tuple[str, dict]] = []
        self.started = self.last_report = time.monotonic()

    def put(self, table: str, item: dict) -> None:
        self.pending.append((table, item))
        if len(self.pending) == 25:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        request: dict[str, list] = {}
        for table, item in self.pending:
            request.setdefault(table, []).append({"PutRequest": {"Item": item}})
        while request:
            unprocessed = self.ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            request = unprocessed
        self.done += len(self.pending)
        self.pending = []
        now = time.monotonic()
        if now - self.last_report >= 5 or self.done == self.total:
            self.last_report = now
            print(f"    {self.label}: {self.done:,}/{self.total:,} items ({now - self.started:.0f}s)", flush=True)


def fill_tenant(tenant_key: str, contacts: int, mine: int) -> None:
    """`contacts` contacts; the first `mine` are the measured member's (adder), the rest other members'."""
    from chalicelib import config
    from chalicelib.store import contact_access

    contacts_table, access_table = config.resource_name("contacts"), config.resource_name("contact-access")
    writer = Writer(f"{tenant_key} ({contacts:,} contacts)", contacts * 3 - mine)
    for number in range(contacts):
        contact_id = f"ct-{number:016x}"
        organisation_id = f"org-bench{number % ORGANISATIONS:04d}"
        members = [ME] if number < mine else [f"member{number % OTHER_MEMBERS:03d}",
                                               f"member{(number + 7) % OTHER_MEMBERS:03d}"]
        name, mobile = f"联系人{number}", f"138{number:08d}"
        email = f"c{number}@example{number % 97}.com"
        writer.put(contacts_table, {
            "tenantKey": s(tenant_key), "contactId": s(contact_id), "name": s(name), "source": s("manual"),
            "mobile": s(mobile), "email": s(email), "organisationId": s(organisation_id),
            "orgName": s(f"组织{number % ORGANISATIONS}"), "adderId": s(members[0]),
            "visibleMembers": {"L": [s(m) for m in members]}, "securityLevel": {"N": "0"},
            "accountStatus": s("none"), "version": {"N": "0"},
            "organisationKey": s(f"{tenant_key}#{organisation_id}"), "placeKey": s(f"#{contact_id}"),
        })
        for member in dict.fromkeys(members):
            writer.put(access_table, {
                "accessKey": s(f"{tenant_key}#{member}"), "entryKey": s(f"{organisation_id}#{contact_id}"),
                "contactId": s(contact_id), "name": s(name), "mobile": s(mobile), "email": s(email),
                "organisationId": s(organisation_id), "orgName": s(f"组织{number % ORGANISATIONS}"),
                "source": s("manual"), "search": s(contact_access.search_text(name, mobile, email)),
            })
    writer.flush()


# --- the measurement ------------------------------------------------------------------------------------------------
class RequestCounter:
    """DynamoDB requests made through PynamoDB, by operation and table: a botocore hook (`before-parameter-build`,
    once per API call) on every session PynamoDB creates (one per thread; installed before the first request)."""

    def __init__(self) -> None:
        from pynamodb.connection import base

        self.calls: list[tuple[str, str]] = []
        make_session = base.get_session

        def counted_session():
            session = make_session()
            session.register("before-parameter-build.dynamodb", self._seen)
            return session

        base.get_session = counted_session

    def _seen(self, model, params, **_kwargs) -> None:
        self.calls.append((model.name, params.get("TableName", "")))


def measure(args: argparse.Namespace) -> int:
    from chalice.test import Client

    from app import app
    from chalicelib import config, sessions, tenants

    counter = RequestCounter()
    sizes = {"small": args.small, "large": args.large}
    keys = {}
    for label, size in sizes.items():
        tenant = tenants.create_self_built(name=f"bench {label}", corp_id=f"wwbench{label}", agent_id="1000002",
                                           wecom_secrets=BENCH_SECRETS)
        keys[label] = tenant.tenant_key
        print(f"  filling {label} tenant {tenant.tenant_key}", flush=True)
        fill_tenant(tenant.tenant_key, size, args.mine)

    access_table = config.resource_name("contact-access")
    timings = {label: {"first": [], "deep": [], "search": []} for label in sizes}
    requests = {label: {"first": [], "deep": [], "search": []} for label in sizes}
    list_queries = {label: {"first": [], "deep": [], "search": []} for label in sizes}
    with Client(app, stage_name="local") as client:
        headers = {label: {"Authorization": f"Bearer {sessions.issue(key, sessions.MEMBER, ME, 'bench').token}"}
                   for label, key in keys.items()}
        deep_cursor = {}
        for label in sizes:  # the cursor of a page deep in the list, and a warm-up of every path
            cursor = None
            for _ in range(args.mine // PAGE // 2):
                page = json.loads(client.http.get(f"/api/directory/contacts?limit={PAGE}"
                                                  + (f"&cursor={cursor}" if cursor else ""),
                                                  headers=headers[label]).body)
                cursor = page["nextCursor"]
            deep_cursor[label] = cursor
        paths = {
            "first": lambda label: f"/api/directory/contacts?limit={PAGE}",
            "deep": lambda label: f"/api/directory/contacts?limit={PAGE}&cursor={deep_cursor[label]}",
            "search": lambda label: f"/api/directory/contacts?limit={PAGE}&q=example1",
        }
        for round_number in range(args.rounds):
            order = list(sizes) if round_number % 2 == 0 else list(reversed(sizes))
            for label in order:
                for kind, path in paths.items():
                    counter.calls.clear()
                    started = time.perf_counter()
                    reply = client.http.get(path(label), headers=headers[label])
                    elapsed = time.perf_counter() - started
                    assert reply.status_code == 200, reply.body
                    timings[label][kind].append(elapsed)
                    requests[label][kind].append(len(counter.calls))
                    list_queries[label][kind].append(sum(1 for op, table in counter.calls if table == access_table))
        sample = json.loads(client.http.get(paths["first"]("large"), headers=headers["large"]).body)
        assert sum(len(g["contacts"]) for g in sample["groups"]) == PAGE

    print()
    print(f"front list, {PAGE} per page, the member relating to {args.mine} contacts; medians of {args.rounds} rounds"
          f"{' (moto as is)' if args.moto_as_is else ''}")
    print(f"{'page':8} {'contacts':>9} {'latency ms':>11} {'DynamoDB requests':>18} {'list Queries':>13}")
    for kind in paths:
        for label, size in sizes.items():
            print(f"{kind:8} {size:>9,} {statistics.median(timings[label][kind]) * 1000:>11.1f} "
                  f"{statistics.median(requests[label][kind]):>18.0f} {statistics.median(list_queries[label][kind]):>13.0f}")
    print()
    worst = 0.0
    for kind in paths:
        ratio = statistics.median(timings["large"][kind]) / statistics.median(timings["small"][kind])
        worst = max(worst, ratio)
        print(f"latency ratio {args.large:,} / {args.small:,} contacts, {kind} page: {ratio:.2f} (target ≤ 1.2)")
    # Medians: once a minute the tenant's record is read again (`get_enabled_recent`'s cache), whichever the size.
    same_requests = all(statistics.median(requests["large"][k]) == statistics.median(requests["small"][k])
                        for k in paths)
    one_query = all(q == 1 for label in sizes for kind in paths for q in list_queries[label][kind])
    print(f"requests per page identical at both sizes: {same_requests}; exactly one list Query per page: {one_query}")
    return 0 if worst <= 1.2 and same_requests and one_query else 1


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
        except subprocess.TimeoutExpired:  # a large heap can keep moto's server from stopping promptly
            emulator.kill()
            emulator.wait()


if __name__ == "__main__":
    sys.exit(main())
