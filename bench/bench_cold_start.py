"""Cold start as Lambda runs it: a fresh Python 3.12 process on the code of the built package, against a bare
Chalice + boto3 app packaged and measured the same way, in the same run.

Each run is a new interpreter (`python3.12 -s`, the package's tree alone on `sys.path`, PYTHONDONTWRITEBYTECODE so no
warm `__pycache__` is left for the next run) that does what a cold API invocation does, timed in-process:
- `import`: the function's entry module (Lambda's init phase);
- then its first requests, each an API Gateway proxy event through the app as Lambda calls it, against the emulator:
  `GET /api/external/home` with a contact's session (sessions, accounts, the home feed, PynamoDB, botocore), and the
  WeCom callback `POST /wecom/callback/{tenantKey}` (verify, decrypt, deduplicate, queue to SQS).
The bare app answers the same requests with one DynamoDB GetItem and one SQS SendMessage (both apps have the queue
URLs in their environment, as the template gives them). `process` is the child's wall time seen from outside
(interpreter start and exit included); `cpu` the child's own CPU time in-process, steadier than wall time on a busy
machine.

Two layouts of the API are compared, each against the bare app:
- before: the whole API in one function (`app.app`): import, then the first home request, then the first callback;
- after: each route family in a function of its own (`chalicelib.entries`), each cold for its own first request:
  `api_public` for the home, `api_callbacks` for the callback (the rest of the API stays in `app.app`).
The code is the package's as built (unchecked-hash .pyc compiled by Python 3.12; without a Python 3.12 the runs use
this interpreter and the package has no bytecode, said in the output). Cases alternate within each round (reversed
every other round) and medians are compared within the run. Target: the app's total ≤ 1.3 × the bare app's.

    .venv/bin/python bench/bench_cold_start.py [--runs 7] [--package build/dev/package/deployment.zip] [--smoke]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import BENCH_SECRETS, create_tenant, local_stage  # noqa: E402

TARGET = 1.3
MARK = "BENCH-RESULT "

BARE_APP = '''import os

import boto3
from chalice import Chalice

app = Chalice(app_name="bare")


@app.route("/api/external/home")
def home():
    item = boto3.client("dynamodb").get_item(TableName="yunqiao-local-tenants", Key={"tenantKey": {"S": "none"}})
    return {"found": "Item" in item}


@app.route("/wecom/callback/{tenantKey}", methods=["POST"], content_types=["text/xml"])
def callback(tenantKey):
    sqs = boto3.client("sqs")
    url = os.environ.get("YQ_QUEUE_URL_CALLBACKS") or sqs.get_queue_url(QueueName="yunqiao-local-callbacks")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    return "success"
'''

# What runs in the fresh interpreter: Lambda's init (import the entry module), then one invocation per proxy event.
CHILD = '''import importlib, json, sys, time
started, cpu = time.perf_counter(), time.process_time()
app = importlib.import_module(sys.argv[1]).app
times = [time.perf_counter() - started]
events = json.loads(sys.argv[2])


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "api_handler", 1024, "bench"

    def get_remaining_time_in_millis(self):
        return 10000


status = []
for event in events:
    status.append(app(event, Context())["statusCode"])
    times.append(time.perf_counter() - started)
print("''' + MARK + '''" + json.dumps({"times": times, "cpu": time.process_time() - cpu, "status": status}))
'''


def proxy_event(method: str, resource: str, path: str, *, headers: dict | None = None, path_params: dict | None = None,
                query: dict | None = None, body: str | None = None) -> dict:
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()}
        if query else None, "pathParameters": path_params, "stageVariables": None, "body": body,
        "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/api{path}",
                           "requestId": "bench", "stage": "api", "identity": {"sourceIp": "127.0.0.1"}},
    }


def callback_event(tenant_key: str, corp_id: str, nonce: str) -> dict:
    """A freshly signed and encrypted WeCom callback for the tenant (timestamp now: within the replay window)."""
    from chalicelib.wecom.crypto import WeComCrypto

    now = str(int(time.time()))
    crypto = WeComCrypto(BENCH_SECRETS["callback_token"], BENCH_SECRETS["callback_aes_key"], corp_id)
    inner = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
             f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
             "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]>"
             f"</ChangeType><UserID><![CDATA[benchowner]]></UserID><ExternalUserID><![CDATA[wm{nonce}]]>"
             "</ExternalUserID></xml>")
    sealed = crypto.encrypt(inner, nonce, now)
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><Encrypt><![CDATA[{sealed.encrypt}]]></Encrypt>"
            "<AgentID><![CDATA[1000002]]></AgentID></xml>")
    return proxy_event("POST", "/wecom/callback/{tenantKey}", f"/wecom/callback/{tenant_key}",
                       headers={"Content-Type": "text/xml"}, path_params={"tenantKey": tenant_key},
                       query={"msg_signature": sealed.signature, "timestamp": now, "nonce": nonce}, body=body)


def home_token(tenant_key: str) -> str:
    from chalicelib.auth import sessions
    from chalicelib.store import contacts as contact_store
    from chalicelib.store import members

    members.upsert(tenant_key, "benchowner", "基准", [1])
    contact_store.Contact(tenant_key, "ct-coldstart0000001", name="冷启动", source="manual",
                          visible_members=["benchowner"], adder_id="benchowner").save()
    return sessions.issue(tenant_key, sessions.CONTACT, "ct-coldstart0000001", "wecom_oauth").token


def give_queue_urls() -> None:
    """The queue URLs the template gives the API function (`infra.resources`), here the emulator's: both apps send
    without a GetQueueUrl first, as deployed."""
    from chalicelib.core import config
    from chalicelib.store import queues
    from infra.policy import FUNCTIONS

    for name in FUNCTIONS["api_handler"].sends_to:
        os.environ[config.queue_url_variable(name)] = queues.url(name)


def build_package(out: Path) -> Path:
    from infra.build import package

    return package("dev", out, allow_no_bytecode=True).parent / "deployment.zip"


def trees(package_zip: Path, work: Path, python: str) -> dict[str, Path]:
    """The app's tree and the bare app's (the same dependencies and Chalice runtime), bytecode as the package has it."""
    app = work / "app"
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(app)
    bare = work / "bare"
    shutil.copytree(app, bare)
    shutil.rmtree(bare / "chalicelib")
    for own in [bare / "app.py", *bare.glob("__pycache__/app.*.pyc")]:
        own.unlink()
    (bare / "app.py").write_text(BARE_APP)
    if any(app.rglob("*.pyc")):
        subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(bare / "app.py")],
                       check=True)
    return {"yunqiao": app, "bare": bare}


def run_once(python: str, tree: Path, entry: str, events: list[dict]) -> dict[str, float]:
    """One cold start: the figures of `COLUMNS[...]` for `events` (all answered 200), in seconds."""
    env = {key: os.environ[key] for key in os.environ if key.startswith(("AWS_", "YQ_", "POWERTOOLS_"))}
    env.update({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1",
                "POWERTOOLS_LOG_LEVEL": "CRITICAL"})
    started = time.perf_counter()
    answer = subprocess.run([python, "-s", "-c", CHILD, entry, json.dumps(events)], cwd=tree, env=env,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = [line for line in answer.stdout.splitlines() if line.startswith(MARK)]
    if answer.returncode != 0 or not lines:
        raise SystemExit(f"cold start run failed in {tree.name} ({entry}):\n{answer.stderr[-3000:]}")
    result = json.loads(lines[-1][len(MARK):])
    if result["status"] != [200] * len(events):
        raise SystemExit(f"{tree.name} ({entry}): the first requests did not answer 200: {lines[-1]}")
    return {**dict(zip(("import", "+1", "+2"), result["times"])), "process": wall, "cpu": result["cpu"]}


@dataclass(frozen=True)
class Comparison:
    """One layout's cold start against the bare app's, for the same requests."""

    label: str  # the ratio line's name
    title: str
    entry: str  # the function's entry module in the package
    requests: tuple[str, ...]  # "home", "callback", in order

    @property
    def columns(self) -> tuple[str, ...]:
        return ("import", *(f"+{name}" for name in self.requests), "process", "cpu")


COMPARISONS = (
    Comparison("before", "before: the whole API in one function (app.app), import then the first home request "
               "then the first callback", "app", ("home", "callback")),
    Comparison("after, home", "after: each route family in a function of its own (chalicelib.entries), cold for "
               "its first request", "chalicelib.entries.api_public", ("home",)),
    Comparison("after, callback", "", "chalicelib.entries.api_callbacks", ("callback",)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--package", type=Path, help="a built deployment.zip (default: build one now)")
    parser.add_argument("--smoke", action="store_true", help="one run of each case, no warm-up: checks it works")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    from infra.build import find_python312

    python = find_python312() or sys.executable
    with tempfile.TemporaryDirectory(prefix="yq-cold-") as temp, local_stage(moto_as_is=True):
        work = Path(temp)
        stamp = time.perf_counter()
        package_zip = args.package or build_package(work / "build")
        print(f"… package ready in {time.perf_counter() - stamp:.0f} s", file=sys.stderr, flush=True)
        has_bytecode = any(name.endswith(".pyc") for name in zipfile.ZipFile(package_zip).namelist())
        tree = trees(package_zip, work, python)
        give_queue_urls()
        tenant = create_tenant("cold start", "wwcoldstart01")
        headers = {"Authorization": f"Bearer {home_token(tenant.tenant_key)}"}
        home = proxy_event("GET", "/api/external/home", "/api/external/home", headers=headers)
        cases = [(comparison, app) for comparison in COMPARISONS for app in ("yunqiao", "bare")]
        times: dict[tuple[Comparison, str], list[dict[str, float]]] = {case: [] for case in cases}
        counter = 0

        def run(case: tuple[Comparison, str]) -> dict[str, float]:
            nonlocal counter
            comparison, app = case
            counter += 1
            events = [home if name == "home" else callback_event(tenant.tenant_key, tenant.corp_id, f"cold{counter}")
                      for name in comparison.requests]
            figures = run_once(python, tree[app], comparison.entry if app == "yunqiao" else "app", events)
            return {column: figures[key] for column, key in
                    zip(comparison.columns, ("import", "+1", "+2")[:len(events) + 1] + ("process", "cpu"))}

        if not args.smoke:
            for case in cases:
                run(case)  # warm the file cache
        for round_number in range(runs):
            for case in cases if round_number % 2 == 0 else list(reversed(cases)):
                times[case].append(run(case))
        version = subprocess.run([python, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"cold start as Lambda runs it: {version}, code from {package_zip.name} "
              f"({'with' if has_bytecode else 'no'} .pyc), medians of {runs} runs (ms)")
        for comparison in COMPARISONS:
            columns = comparison.columns
            medians = {app: {column: statistics.median(r[column] for r in times[(comparison, app)]) * 1000
                             for column in columns} for app in ("yunqiao", "bare")}
            if comparison.title:
                print(comparison.title)
                print(f"{'':34}" + "".join(f"{column:>11}" for column in columns))
            function = "app.app" if comparison.entry == "app" else comparison.entry.rpartition(".")[2]
            names = {"bare": f"bare, {' + '.join(comparison.requests)}",
                     "yunqiao": f"yunqiao {function}, {' + '.join(comparison.requests)}"}
            for app in ("bare", "yunqiao"):
                print(f"{names[app]:34}" + "".join(f"{medians[app][column]:11.0f}" for column in columns))
            ratios = {column: medians["yunqiao"][column] / medians["bare"][column] for column in columns}
            total = columns[-3]
            verdict = "met" if ratios[total] <= TARGET else "NOT met"
            print(f"{'ratio (' + comparison.label + ')':34}" + "".join(f"{ratios[c]:11.2f}" for c in columns)
                  + f"   target {total} <= {TARGET}: {verdict}")
        if not has_bytecode:
            print("no Python 3.12 found: the package has no bytecode, every case ran without it")


if __name__ == "__main__":
    main()
