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
are counted with a botocore hook (`before-parameter-build`, once per API call) on the process's one botocore session.

The emulator is moto server with `dev/emulator.py`'s correction, as in `bench_directory.py`: moto answers a
table Query by walking every item of the table, DynamoDB by reading one partition; the emulator process serves a
table Query from the queried partition alone (same items, same order). `--moto-as-is` turns that off. Setup writes
the other shares with BatchWriteItem (25 per request; three rows per share: the item, its sharer row, the contact's
feed row) and prints progress: 100,000 shares take a few minutes.

Run: .venv/bin/python bench/bench_home.py [--small 1000] [--large 100000] [--mine 50] [--contacts 500] [--rounds 30]
     .venv/bin/python bench/bench_home.py --smoke   (20 and 100 shares, 2 rounds: seconds)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (  # noqa: E402
    RequestCounter, Writer, alternating, create_tenant, latency_met, local_stage, timed_get, two_tenant_parser,
)

OWNER = "benchowner"
KINDS = ("project", "task", "approval", "form", "document", "schedule", "crm_record")
PAGE = 20


def parse_args() -> argparse.Namespace:
    parser = two_tenant_parser(__doc__.splitlines()[0], "shares")
    parser.add_argument("--mine", type=int, default=50, help="items shared with the measured contact")
    parser.add_argument("--contacts", type=int, default=500, help="other contacts the rest is shared with")
    args = parser.parse_args()
    if args.smoke:
        args.small, args.large, args.mine, args.contacts, args.rounds = 20, 100, len(KINDS), 10, 2
    return args


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
    from chalicelib.auth.identity import Caller
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
        writer.put_row(item)
        writer.put_row(shares.SharerRow(item.pk, shares.sharer_sk(contact_id), contact_id=contact_id,
                                    shared_at=shared_at, shared_by=OWNER, feed_sk=feed_sk, unread=0))
        writer.put_row(shares.FeedRow(shares.contact_pk(tenant_key, contact_id), feed_sk, kind=kind, item_id=item_id,
                                  shared_at=shared_at, item=render(item), item_version=1))
    writer.flush()
    return me.contact_id


def measure(args: argparse.Namespace) -> int:
    from chalice.test import Client

    counter = RequestCounter()
    from app import app
    from chalicelib.auth import sessions

    sizes = {"small": args.small, "large": args.large}
    headers = {}
    for label, size in sizes.items():
        tenant = create_tenant(label, f"wwbenchhome{label}")
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
        for label in alternating(sizes, args.rounds):
            for name, path in paths.items():
                timings[label][name].append(timed_get(client, path, headers[label], counter))
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
    latency_ok = latency_met(timings, sizes, "shares", args.smoke)
    home_requests = max(max(requests[label]["home"]) for label in sizes)
    same = all(requests["large"][name] == requests["small"][name] for name in paths)
    print(f"home: at most {home_requests} DynamoDB requests (target ≤ 2); requests identical at both sizes: {same}")
    return 0 if latency_ok and home_requests <= 2 and same else 1


def main() -> int:
    args = parse_args()
    with local_stage(args.moto_as_is):
        return measure(args)


if __name__ == "__main__":
    sys.exit(main())
