"""Cold start as Lambda runs it: a fresh Python 3.12 process on the code of the built package, against a bare
Chalice + boto3 app packaged and measured the same way, in the same run.

Each run is a new interpreter (`python3.12 -s`, the package's tree alone on `sys.path`, PYTHONDONTWRITEBYTECODE so no
warm `__pycache__` is left for the next run) that does what a cold API invocation does, timed in-process:
- `import`: `from app import app` (Lambda's init phase);
- `+home`: the first `GET /api/external/home` with a contact's session, through the app as Lambda calls it (an API
  Gateway proxy event) against the emulator: sessions, accounts, the home feed, PynamoDB, botocore;
- `+callback`: then the first WeCom callback `POST /wecom/callback/{tenantKey}` (verify, decrypt, queue to SQS).
The bare app answers the same two requests with one DynamoDB GetItem and one SQS SendMessage (both apps have the
queue URLs in their environment, as the template gives them). `process` is the child's wall time seen from outside
(interpreter start and exit included).

Two packagings are compared, the app and the bare one alike: as built today (with the unchecked-hash .pyc that
`infra.build` compiles with Python 3.12) — "after" — and with every .pyc removed — "before", what the zip shipped
until now. Cases alternate within each round (reversed every other round) and medians are compared within the run.
Target: the app's `+callback` total ≤ 1.3 × the bare app's. Without a Python 3.12 the runs use this interpreter and
the package has no bytecode, so only "before" is measured (said in the output).

    .venv/bin/python bench/bench_cold_start.py [--runs 7] [--package build/dev/package/deployment.zip] [--smoke]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import BENCH_SECRETS, create_tenant, local_stage  # noqa: E402

TARGET = 1.3
MARK = "BENCH-RESULT "
STEPS = ("import", "+home", "+callback")

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

# What runs in the fresh interpreter: Lambda's init (import), then two invocations with proxy events.
CHILD = '''import json, sys, time
started = time.perf_counter()
from app import app
imported = time.perf_counter()
events = json.loads(sys.argv[1])


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "api_handler", 1024, "bench"

    def get_remaining_time_in_millis(self):
        return 10000


answers = []
for event in events:
    answers.append(app(event, Context())["statusCode"])
    answers.append(time.perf_counter())
print("''' + MARK + '''" + json.dumps({"import": imported - started, "+home": answers[1] - started,
                                       "+callback": answers[3] - started, "status": [answers[0], answers[2]]}))
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


def trees(package_zip: Path, work: Path, python: str, bytecode: bool) -> dict[str, Path]:
    """The app's tree and the bare app's (the same dependencies and Chalice runtime), with or without .pyc."""
    app = work / "app"
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(app)
    bare = work / "bare"
    shutil.copytree(app, bare)
    shutil.rmtree(bare / "chalicelib")
    for own in [bare / "app.py", *bare.glob("__pycache__/app.*.pyc")]:
        own.unlink()
    (bare / "app.py").write_text(BARE_APP)
    if bytecode:
        subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(bare / "app.py")],
                       check=True)
    else:
        for tree in (app, bare):
            for cache in tree.rglob("__pycache__"):
                shutil.rmtree(cache)
    return {"yunqiao": app, "bare": bare}


def run_once(python: str, tree: Path, events: list[dict]) -> dict[str, float]:
    env = {key: os.environ[key] for key in os.environ if key.startswith(("AWS_", "YQ_", "POWERTOOLS_"))}
    env.update({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1",
                "POWERTOOLS_LOG_LEVEL": "CRITICAL"})
    started = time.perf_counter()
    answer = subprocess.run([python, "-s", "-c", CHILD, json.dumps(events)], cwd=tree, env=env, capture_output=True,
                            text=True)
    wall = time.perf_counter() - started
    lines = [line for line in answer.stdout.splitlines() if line.startswith(MARK)]
    if answer.returncode != 0 or not lines:
        raise SystemExit(f"cold start run failed in {tree.name}:\n{answer.stderr[-3000:]}")
    result = json.loads(lines[-1][len(MARK):])
    if result.pop("status") != [200, 200]:
        raise SystemExit(f"{tree.name}: the first requests did not answer 200: {lines[-1]}")
    return {**result, "process": wall}


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
        variants = {"after": trees(package_zip, work / "after", python, True)} if has_bytecode else {}
        variants["before"] = trees(package_zip, work / "before", python, False)
        give_queue_urls()
        tenant = create_tenant("cold start", "wwcoldstart01")
        headers = {"Authorization": f"Bearer {home_token(tenant.tenant_key)}"}
        home = proxy_event("GET", "/api/external/home", "/api/external/home", headers=headers)
        cases = [(variant, app) for variant in variants for app in ("yunqiao", "bare")]
        times: dict[tuple[str, str], list[dict[str, float]]] = {case: [] for case in cases}
        counter = 0

        def run(case: tuple[str, str]) -> dict[str, float]:
            nonlocal counter
            counter += 1
            events = [home, callback_event(tenant.tenant_key, tenant.corp_id, f"cold{counter}")]
            return run_once(python, variants[case[0]][case[1]], events)

        if not args.smoke:
            for case in cases:
                run(case)  # warm the file cache
        for round_number in range(runs):
            for case in cases if round_number % 2 == 0 else list(reversed(cases)):
                times[case].append(run(case))
        version = subprocess.run([python, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"cold start as Lambda runs it: {version}, code from {package_zip.name}, medians of {runs} runs (ms)")
        print(f"{'':24}" + "".join(f"{step:>11}" for step in (*STEPS, "process")))
        for variant in variants:
            medians = {app: {step: statistics.median(r[step] for r in times[(variant, app)]) * 1000
                             for step in (*STEPS, "process")} for app in ("yunqiao", "bare")}
            label = "with .pyc" if variant == "after" else "no .pyc"
            for app in ("bare", "yunqiao"):
                print(f"{app + ', ' + label:24}" + "".join(f"{medians[app][s]:11.0f}" for s in (*STEPS, "process")))
            ratios = {s: medians["yunqiao"][s] / medians["bare"][s] for s in (*STEPS, "process")}
            verdict = "met" if ratios["+callback"] <= TARGET else "NOT met"
            print(f"{'ratio (' + variant + ')':24}" + "".join(f"{ratios[s]:11.2f}" for s in (*STEPS, "process"))
                  + f"   target +callback <= {TARGET}: {verdict}")
        if not has_bytecode:
            print("no Python 3.12 found: the package has no bytecode, only 'before' was measured")


if __name__ == "__main__":
    main()
