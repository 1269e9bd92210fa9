"""The front list (外部互联) at 1,000 and at 100,000 contacts in the tenant: latency and DynamoDB requests per page.

The claim under test: a page of a member's front list costs one DynamoDB Query whatever the size of the directory,
so its latency does not grow with the tenant (target: large/small median latency ≤ 1.2). Two tenants live in one
emulator, one with `--small` contacts and one with `--large`; in both the measured member relates to the same
`--mine` contacts (spread over ten organisations) and every other contact belongs to other members (an adder and a
visible member each), so the only difference is the size of the directory around the member.

Each round requests, through the app's real route (`GET /api/directory/contacts` via Chalice's test client, session
resolution included): the first page, a page deep in the list (from a cursor), and a search page (`q`). Rounds
alternate between the tenants and the medians are compared within the run (the machine is noisy). DynamoDB requests
are counted with a botocore hook on the process's botocore session: per page, the session's GetItem, the caller's
roles Query and the list's one Query on `contact-access` (plus, once a minute, the tenant's GetItem).

The emulator: moto server, as in the tests, with `dev/emulator.py`'s correction: a table Query reads the
queried partition alone, as DynamoDB does, where moto walks and sorts the whole table — the same kind of correction
as `bench_profile_links.py`'s SQS double. `--moto-as-is` turns it off, to see moto's own cost: every page then costs
a walk of the whole `contact-access` table (measured: ~2 s per page with 33,000 items in it, against ~0.2 s
corrected with 300,000), for both tenants alike, since they share the table.

Setup writes the items directly with BatchWriteItem (25 per request), printing progress: 100,000 contacts and their
200,000 front-list entries take a few minutes.

Run: .venv/bin/python bench/bench_directory.py [--small 1000] [--large 100000] [--mine 500] [--rounds 30]
     .venv/bin/python bench/bench_directory.py --smoke   (120 and 300 contacts, 2 rounds: seconds)
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

ME = "benchuser"
ORGANISATIONS = 10
OTHER_MEMBERS = 200
PAGE = 50


def parse_args() -> argparse.Namespace:
    parser = two_tenant_parser(__doc__.splitlines()[0], "contacts")
    parser.add_argument("--mine", type=int, default=500, help="contacts the measured member relates to")
    args = parser.parse_args()
    if args.smoke:
        args.small, args.large, args.mine, args.rounds = 2 * PAGE + 20, 300, 2 * PAGE, 2
    if args.mine < 2 * PAGE:
        parser.error(f"--mine must be at least {2 * PAGE}: the deep page is halfway through them, past the first")
    return args


def s(value: str) -> dict:
    """A DynamoDB string attribute value."""
    return {"S": value}


def fill_tenant(tenant_key: str, contacts: int, mine: int) -> None:
    """`contacts` contacts; the first `mine` are the measured member's (adder), the rest other members'."""
    from chalicelib.core import config
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


def measure(args: argparse.Namespace) -> int:
    from chalice.test import Client

    from app import app
    from chalicelib.core import config
    from chalicelib.auth import sessions

    counter = RequestCounter()
    sizes = {"small": args.small, "large": args.large}
    keys = {}
    for label, size in sizes.items():
        tenant = create_tenant(label, f"wwbench{label}")
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
        for label in alternating(sizes, args.rounds):
            for kind, path in paths.items():
                timings[label][kind].append(timed_get(client, path(label), headers[label], counter))
                requests[label][kind].append(len(counter.calls))
                list_queries[label][kind].append(sum(1 for _op, table in counter.calls if table == access_table))
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
    latency_ok = latency_met(timings, sizes, "contacts", args.smoke)
    # Medians: once a minute the tenant's record is read again (`get_enabled_recent`'s cache), whichever the size.
    same_requests = all(statistics.median(requests["large"][k]) == statistics.median(requests["small"][k])
                        for k in paths)
    one_query = all(q == 1 for label in sizes for kind in paths for q in list_queries[label][kind])
    print(f"requests per page identical at both sizes: {same_requests}; exactly one list Query per page: {one_query}")
    return 0 if latency_ok and same_requests and one_query else 1


def main() -> int:
    args = parse_args()
    with local_stage(args.moto_as_is):
        return measure(args)


if __name__ == "__main__":
    sys.exit(main())
