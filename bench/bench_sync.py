"""The scheduled sync of a big corp: N customers over 50 follow users and 2 chains of 200 corps, run twice.

The real path end to end: a queued run, the `process_sync` consumer driven by the event pump with Lambda's 900 s
budget, the WeCom client over HTTP to the in-process simulator (WeCom's limits), PynamoDB against the emulator
(moto server). Each size runs in a fresh process, so its memory and timing owe nothing to the previous one.

Printed per run:
- WeCom calls, against the per-customer approach (externalcontact/list per follow user + externalcontact/get per
  customer = N + users + 1); the target is ≈ the pages of batch/get_by_user (pairs ÷ 100) plus the chains' few calls;
- items written to the directory tables (contacts, customer-follows, organisations): ≈ N on the first run (plus one
  follow relation per member-customer pair, which is what lets a later run find removals without stamping every
  customer), 0 on the second; bookkeeping writes (lease, run record, checkpoints, rate-limit permits) apart;
- DynamoDB requests, wall time, and the peak of Python memory (tracemalloc) during the run, which must not grow with
  N: pages are streamed, never the corp.
Run at 1,000 and 10,000 customers to show time linear and memory flat:

    .venv/bin/python bench/bench_sync.py [--sizes 1000,10000] [--follow-users 50] [--chains 2] [--corps 200]
    .venv/bin/python bench/bench_sync.py --smoke   (40 customers over 5 follow users, 1 chain of 3 corps: seconds)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev.emulator import (  # noqa: E402
    LOCAL_CREDENTIALS, create_stage_resources, free_port, start_emulator, stop_process,
)

PROGRESS_EVERY = 10.0  # seconds between progress lines
DIRECTORY_TABLES = ("contacts", "customer-follows", "organisations")
CORPID = "wwbenchsync01"
LAMBDA_TIMEOUT = 900


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="customer counts, one fresh process each")
    parser.add_argument("--follow-users", type=int, default=50)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--corps", type=int, default=200, help="corps per chain")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="one tiny corp, to show the bench still runs")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.follow_users, args.members, args.chains, args.corps = "40", 5, 20, 1, 3
    return args


def main() -> int:
    args = parse_args()
    if args.child:
        return child(args, args.child)
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"== {size:,} customers over {args.follow_users} follow users, "
              f"{args.chains} chains of {args.corps} corps", flush=True)
        command = [sys.executable, __file__, "--child", str(size), "--follow-users", str(args.follow_users),
                   "--members", str(args.members), "--chains", str(args.chains), "--corps", str(args.corps),
                   "--seed", str(args.seed)]
        with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
            for line in process.stdout:  # progress lines as they come
                if line.startswith("RESULT "):
                    results.append(json.loads(line[len("RESULT "):]))
                elif not line.startswith('{"_aws"'):  # the run's CloudWatch metrics (EMF) lines
                    print(line, end="", flush=True)
        if process.returncode:
            raise SystemExit(f"the {size:,}-customer run failed (exit {process.returncode})")
    report(results)
    return 0


# --- one size, in its own process ------------------------------------------------------------------------------
def child(args: argparse.Namespace, size: int) -> int:
    emulator_port, simulator_port = free_port(), free_port()
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.update({
        "YQ_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator_port}",
        "YQ_WECOM_BASE_URL": f"http://127.0.0.1:{simulator_port}",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",  # the run's logs would drown the figures
    })
    emulator = start_emulator(emulator_port)
    try:
        create_stage_resources("local")
        from dev.wecom_sim.generate import generate
        from dev.wecom_sim.harness import start_simulator

        scenario = generate(members=max(args.members, args.follow_users), customers=size,
                            follow_users=args.follow_users, chains=args.chains, corps_per_chain=args.corps,
                            seed=args.seed, corpid=CORPID)
        with start_simulator(scenario, port=simulator_port) as simulator:
            bench = Bench(scenario, simulator)
            for run in (1, 2):
                print("RESULT " + json.dumps({"customers": size, "run": run, **bench.run(run)}), flush=True)
    finally:
        stop_process(emulator)
    return 0


class Bench:
    def __init__(self, scenario: dict, simulator) -> None:
        from app import app
        from chalicelib.directory import customers
        from chalicelib.tenants import onboarding
        from chalicelib.store import members
        from dev.pump import EventPump

        self.scenario = scenario
        self.simulator = simulator
        self.pump = EventPump(app, timeout_seconds=LAMBDA_TIMEOUT)
        corp = scenario["corps"][0]
        secret = {s["kind"]: s for s in corp["secrets"]}
        self.tenant = onboarding.create_self_built(
            name=corp["corp_name"], corp_id=corp["corpid"], agent_id=str(secret["app"]["agentid"]),
            auto_sync_customers=True, wecom_secrets={
                "contacts_secret": secret["contacts"]["secret"],
                "customer_secret": secret["externalcontact"]["secret"], "app_secret": secret["app"]["secret"],
                "callback_token": corp["callback"]["token"], "callback_aes_key": corp["callback"]["encoding_aes_key"]})
        for member in corp["members"]:
            if member.get("unionid"):  # members who signed in through WeChat: their customer twins are skipped
                members.upsert(self.tenant.tenant_key, member["userid"], member["name"], member["department"])
                members.set_unionid(self.tenant.tenant_key, member["userid"], member["unionid"])
        from chalicelib.store import queues
        from chalicelib.tenants.wecom_clients import client_for_tenant

        # Cold-start costs load here, not in the traced runs: each PynamoDB model opens its botocore session on
        # first use (~7 MB of endpoint data each), boto3 loads the SQS model, the WeCom client its secrets.
        # (DescribeTable, not `count`: a model may have an attribute of that name, as the login throttle's has.)
        from chalicelib.store.tables import all_models

        for model in all_models():
            model.describe_table()
        queues.url(queues.SYNC.logical_name)
        client_for_tenant(self.tenant)
        self.pairs = sum(len(c["follow_users"]) for c in corp["customers"])
        self.follow_users = sum(1 for member in corp["members"] if member.get("follow_user"))
        self.requests: Counter = Counter()
        self.items: Counter = Counter()
        self._count_dynamodb()
        self._progress = {"pages": 0, "pairs": 0, "last": 0.0, "started": 0.0}
        real_apply = customers.apply_page

        def apply_with_progress(tenant, pairs, *rest, **kwargs):
            outcome = real_apply(tenant, pairs, *rest, **kwargs)
            state = self._progress
            state["pages"] += 1
            state["pairs"] += len(pairs)
            now = time.perf_counter()
            if now - state["last"] >= PROGRESS_EVERY:
                state["last"] = now
                print(f"  … {state['pairs']:,}/{self.pairs:,} member-customer pairs, {state['pages']} pages, "
                      f"{now - state['started']:.0f} s", flush=True)
            return outcome

        customers.apply_page = apply_with_progress

    def _count_dynamodb(self) -> None:
        """DynamoDB requests by operation, and items written by table, counted where PynamoDB calls botocore."""
        from pynamodb.connection.base import Connection

        real = Connection._make_api_call
        requests, items = self.requests, self.items

        def counting(connection, operation_name, operation_kwargs):
            requests[operation_name] += 1
            if operation_name in ("PutItem", "UpdateItem", "DeleteItem"):
                items[operation_kwargs["TableName"]] += 1
            elif operation_name == "BatchWriteItem":
                for table, entries in operation_kwargs["RequestItems"].items():
                    items[table] += len(entries)
            return real(connection, operation_name, operation_kwargs)

        Connection._make_api_call = counting

    def run(self, number: int) -> dict:
        from chalicelib.sync import checkpoint as sync_checkpoint, triggers as sync_triggers
        from chalicelib.core import config
        from chalicelib.store import sync_runs

        self.requests.clear()
        self.items.clear()
        self.simulator.control.reset_calls()
        self._progress.update(pages=0, pairs=0, started=time.perf_counter(), last=time.perf_counter())
        print(f"  run {number}: started", flush=True)
        tracemalloc.start()
        started = time.perf_counter()
        run_id = sync_triggers.queue_run(self.tenant, "bench")
        self.pump.drain(config.resource_name("sync"))
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        record = sync_checkpoint.describe_run(sync_runs.get_run(self.tenant.tenant_key, run_id))
        calls = Counter(call["path"].removeprefix("/cgi-bin/")
                        for call in self.simulator.control.calls(corpid=CORPID) if call["errcode"] == 0)
        directory = {table: self.items[config.resource_name(table)] for table in DIRECTORY_TABLES}
        print(f"  run {number}: {record['status']} in {seconds:.1f} s, {record['invocations']} invocation(s)",
              flush=True)
        return {
            "status": record["status"],
            "invocations": record["invocations"],
            "counts": record["counts"],
            "pairs": self.pairs,
            "follow_users": self.follow_users,
            "wecom_calls": sum(n for path, n in calls.items() if path != "gettoken"),
            "batch_pages": calls["externalcontact/batch/get_by_user"],
            "wecom_by_path": dict(calls),
            "directory_writes": directory,
            "bookkeeping_writes": sum(self.items.values()) - sum(directory.values()),
            "dynamodb_requests": sum(self.requests.values()),
            "seconds": seconds,
            "peak_bytes": peak,
        }


# --- the report --------------------------------------------------------------------------------------------------
def report(results: list[dict]) -> None:
    print()
    print("customers run  WeCom calls  (batch pages / pairs÷100)  per-customer get  directory writes "
          "(contacts+follows+orgs)  bookkeeping  DynamoDB req   wall s   ms/customer  peak MiB")
    for r in results:
        n = r["customers"]
        per_customer_approach = n + r["follow_users"] + 1
        writes = r["directory_writes"]
        pages = math.ceil(r["pairs"] / 100)
        print(f"{n:>9,} {r['run']:>3}  {r['wecom_calls']:>11,}  ({r['batch_pages']:>5} / {pages:>5})"
              f"        {per_customer_approach:>16,}  {sum(writes.values()):>16,} "
              f"({writes['contacts']:,}+{writes['customer-follows']:,}+{writes['organisations']:,})"
              f"{'':>6}{r['bookkeeping_writes']:>11,}  {r['dynamodb_requests']:>11,}  {r['seconds']:>7.1f}"
              f"  {1000 * r['seconds'] / n:>11.2f}  {r['peak_bytes'] / 2**20:>8.1f}")
    print()
    for r in results:
        c = r["counts"]["customers"]
        print(f"{r['customers']:>9,} run {r['run']}: {r['status']}, customers {c}, "
              f"organisations {r['counts']['organisations']}, WeCom by path {r['wecom_by_path']}")
    firsts = {r["customers"]: r for r in results if r["run"] == 1}
    seconds = {r["customers"]: r for r in results if r["run"] == 2}
    print()
    ok = True
    for n, r in seconds.items():
        clean = sum(r["directory_writes"].values()) == 0
        ok &= clean
        print(f"second run at {n:,}: {sum(r['directory_writes'].values())} directory writes (target 0): "
              f"{'met' if clean else 'NOT met'}")
    if len(firsts) >= 2:
        small, large = min(firsts), max(firsts)
        time_ratio = firsts[large]["seconds"] / firsts[small]["seconds"]
        memory_ratio = firsts[large]["peak_bytes"] / firsts[small]["peak_bytes"]
        print(f"first run {large:,} vs {small:,} customers ({large / small:.0f}×): time ×{time_ratio:.1f} "
              f"(linear ≈ ×{large / small:.0f}), peak memory ×{memory_ratio:.2f} (flat ≈ ×1; target ≤ 1.5): "
              f"{'met' if memory_ratio <= 1.5 else 'NOT met'}")
        ok &= memory_ratio <= 1.5
    print("all targets met" if ok else "SOME TARGETS NOT MET")


if __name__ == "__main__":
    raise SystemExit(main())
