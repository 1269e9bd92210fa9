"""Callback path cost: POST /wecom/callback/{tenantKey} in process, against the emulator.

Prints requests/s of our route (verify, decrypt, dedupe put, queue send, dedupe state update) against a baseline route
that does only the unavoidable I/O — one DynamoDB PutItem, one SQS SendMessage and one UpdateItem — in the same app and
run, and counts the AWS calls one callback costs (target: one conditional put, one send and one update of the dedupe
record to `queued`, without which a redelivery cannot tell a queued event from one whose first delivery died while
sending it; the tenant record is read once a minute per process).

moto's SendMessage slows as its queue deepens, so each half of a round starts on an emptied queue, and the two
routes take turns going first: neither is measured against a deeper queue than the other.

    .venv/bin/python bench/bench_callbacks.py [--callbacks 300] [--rounds 7] [--smoke]
"""
from __future__ import annotations

import argparse
import collections
import datetime
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dev.emulator import LOCAL_CREDENTIALS, free_port, start_emulator, stop_process  # noqa: E402

PORT = free_port()
os.environ.update(LOCAL_CREDENTIALS)
os.environ.update({"YQ_STAGE": "local", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{PORT}", "POWERTOOLS_LOG_LEVEL": "ERROR"})

TOKEN, AES_KEY, CORP = "BenchToken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwbench0001"


def count_aws_calls() -> collections.Counter:
    """Every AWS API call made in this process, by operation name (boto3 and PynamoDB share botocore)."""
    from botocore.client import BaseClient

    calls: collections.Counter = collections.Counter()
    original = BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        calls[operation_name] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counted
    return calls


def callbacks(n: int) -> list[tuple[str, bytes]]:
    from chalicelib.wecom.crypto import WeComCrypto

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP)
    made = []
    for i in range(n):
        now = str(int(time.time()))
        inner = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
                 f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                 "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]>"
                 f"</ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wm{uuid.uuid4().hex}]]>"
                 "</ExternalUserID><State><![CDATA[bench]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>")
        sealed = crypto.encrypt(inner, str(i), now)
        body = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{sealed.encrypt}]]></Encrypt>"
                "<AgentID><![CDATA[1000002]]></AgentID></xml>").encode()
        made.append((f"msg_signature={sealed.signature}&timestamp={now}&nonce={i}", body))
    return made


def drain(sqs, queue_url: str) -> None:
    """Delete every message of the queue (PurgeQueue is allowed once a minute on AWS)."""
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: does the bench still run and print")
    args = parser.parse_args()
    if args.smoke:
        args.callbacks, args.rounds = 10, 2
    emulator = start_emulator(PORT)
    try:
        from chalice.test import Client

        from app import app
        from chalicelib.tenants import onboarding
        from chalicelib.core.aws import client
        from chalicelib.store import queues
        from dev.emulator import create_stage_resources

        create_stage_resources("local")
        tenant = onboarding.create_self_built(name="压测", corp_id=CORP, agent_id="1000002", wecom_secrets={
            "contacts_secret": "a", "customer_secret": "b", "app_secret": "c",
            "callback_token": TOKEN, "callback_aes_key": AES_KEY})

        @app.route("/bench/baseline", methods=["POST"], content_types=["*/*"])
        def baseline():
            from chalicelib.store.callback_events import CallbackEvent

            record = CallbackEvent(f"bench#{uuid.uuid4().hex}", kind="x", received_at="now",
                                   expires_at=datetime.timedelta(minutes=1), state="pending")
            record.save()
            client("sqs").send_message(QueueUrl=queues.url("callbacks"), MessageBody="{}")
            record.update(actions=[CallbackEvent.state.set("queued")])
            return "success"

        calls = count_aws_calls()
        sqs, queue_url = client("sqs"), queues.url("callbacks")
        ours, base = [], []
        with Client(app, stage_name="local") as http:
            warm = callbacks(5)
            for query, body in warm:
                http.http.post(f"/wecom/callback/{tenant.tenant_key}?{query}", headers={"Content-Type": "text/xml"}, body=body)

            def run_ours() -> None:
                nonlocal per_callback
                batch = callbacks(args.callbacks)
                drain(sqs, queue_url)
                calls.clear()
                started = time.perf_counter()
                for query, body in batch:
                    reply = http.http.post(f"/wecom/callback/{tenant.tenant_key}?{query}",
                                           headers={"Content-Type": "text/xml"}, body=body)
                    assert reply.status_code == 200, reply.body
                ours.append(args.callbacks / (time.perf_counter() - started))
                per_callback = {op: n / args.callbacks for op, n in sorted(calls.items())}

            def run_baseline() -> None:
                drain(sqs, queue_url)
                started = time.perf_counter()
                for _ in range(args.callbacks):
                    reply = http.http.post("/bench/baseline", body=b"")
                    assert reply.status_code == 200, reply.body
                base.append(args.callbacks / (time.perf_counter() - started))

            per_callback: dict[str, float] = {}
            for round_no in range(1, args.rounds + 1):
                order = (run_ours, run_baseline) if round_no % 2 else (run_baseline, run_ours)
                for half in order:
                    half()
                first = "ours" if order[0] is run_ours else "baseline"
                print(f"  round {round_no}/{args.rounds} ({first} first): ours {ours[-1]:.0f}/s, "
                      f"baseline {base[-1]:.0f}/s", flush=True)
        print(f"AWS calls per callback: {per_callback}")
        print(f"POST callback median {statistics.median(ours):.0f} req/s; put+send+update baseline {statistics.median(base):.0f} req/s;"
              f" ratio {statistics.median(ours) / statistics.median(base):.2f}")
        writes = {op: n for op, n in per_callback.items() if op not in ("GetItem", "GetSecretValue")}
        print(f"tenant reads per callback: {per_callback.get('GetItem', 0):.3f} (the per-process tenant cache, "
              "refreshed once a minute)")
        target = {"PutItem": 1.0, "SendMessage": 1.0, "UpdateItem": 1.0}
        print(f"target one conditional put, one send and one state update per callback: "
              f"{'met' if writes == target else 'NOT met'} ({writes})")
    finally:
        stop_process(emulator)


if __name__ == "__main__":
    main()
