"""Bulk 与我协作 writes for a 10,000-member corp: a first run, then a re-run that must find nothing to write.

The real path end to end: the admin's start (run record + listing message), the listing consumer (user/list_id, the
members queued with SendMessageBatch, paced to the rate limit), the member consumer under the shared per-corp rate
limiter — driven by `--workers` concurrent "Lambda invocations" of the event pump against the emulator (moto) and
the WeCom simulator with WeCom's own limit (10,000/min per API). Mid-run WeCom answers -1 (busy) `--storm` times.

DynamoDB and Secrets Manager are the emulator's (moto server), as in the tests. SQS is not: moto's SQS walks every
message of the queue for each message sent, received or deleted (measured here: 0.15 s per SendMessageBatch and ~1 s
per ReceiveMessage with 500 messages queued), which makes a 10,000-message run take hours. `SqsDouble` serves the
SQS calls the code makes, in process and with SQS's semantics for them: DelaySeconds, visibility timeouts and
ChangeMessageVisibility, receive counts, ten entries per batch.

Printed per run: SQS send calls (target ≤ 1,000), WeCom calls per member (≈2 on the first run; 1 and no update on the
re-run), 45009 answers (must be 0: our limiter keeps below WeCom's), wall time against the theoretical minimum
(members ÷ rate), and messages lost (must be 0: every member carries the link, nothing left queued or dead-lettered).

Run: .venv/bin/python bench/bench_profile_links.py [--members 10000] [--rate 6000] [--workers 8] [--storm 100]
     .venv/bin/python bench/bench_profile_links.py --smoke   (60 members, 2 workers, a storm of 3: seconds)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev.emulator import (  # noqa: E402
    LOCAL_CREDENTIALS, create_stage_resources, free_port, start_emulator, stop_process,
)

WECOM_LIMIT_PER_MINUTE = 10000
PROGRESS_EVERY = 5.0  # seconds between progress lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=6000, help="our per-corp limit per API, calls/minute")
    parser.add_argument("--workers", type=int, default=8, help="concurrent consumer invocations")
    parser.add_argument("--storm", type=int, default=100, help="WeCom busy (-1) answers injected mid-run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="60 members, 2 workers, a storm of 3: does it still run")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.workers, args.storm = 60, 2, 3
    return args


def main() -> int:
    args = parse_args()
    emulator_port = free_port()
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.update({
        "YQ_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator_port}",
        "YQ_PUBLIC_BASE_URL": "https://yq.bench",
        "YQ_WECOM_RATE_PER_MINUTE": str(args.rate),
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",  # the consumers' logs would drown the figures
    })
    emulator = start_emulator(emulator_port)
    try:
        create_stage_resources("local")
        return Bench(args).run()
    finally:
        stop_process(emulator)


class SqsDouble:
    """An in-memory SQS behind the process's boto3 SQS client (a botocore `before-send` hook), for the calls Yunqiao
    and the event pump make. Receives scan the queue in send order; that is O(depth) per receive, not per message."""

    def __init__(self, queue_names: list[str], visibility: dict[str, int]) -> None:
        self._queues: dict[str, dict[str, dict]] = {name: {} for name in queue_names}
        self._visibility = visibility
        self._handles: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.deleted = 0
        self.emptied_at = 0.0  # when a queue last became empty

    def depth(self, name: str) -> int:
        """Messages in the queue: visible, delayed or in flight."""
        with self._lock:
            return len(self._queues[name])

    def install(self, sqs_client) -> None:
        sqs_client.meta.events.register_first("before-send.sqs", self._answer)

    def _answer(self, request, **_kwargs):
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        self.calls[operation] += 1
        body = json.loads(request.body or b"{}")
        with self._lock:
            answer = getattr(self, operation)(body)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 200, headers, MockRawResponse(json.dumps(answer)))

    @staticmethod
    def _name(body: dict) -> str:
        return body["QueueUrl"].rsplit("/", 1)[-1]

    def GetQueueUrl(self, body: dict) -> dict:
        return {"QueueUrl": f"https://sqs.double/000000000000/{body['QueueName']}"}

    def _add(self, name: str, entry: dict) -> dict:
        message_id = os.urandom(16).hex()
        self._queues[name][message_id] = {
            "body": entry["MessageBody"], "attributes": entry.get("MessageAttributes", {}), "receives": 0,
            "visible_at": time.monotonic() + int(entry.get("DelaySeconds") or 0),
        }
        return {"MessageId": message_id, "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest()}

    def SendMessage(self, body: dict) -> dict:
        return self._add(self._name(body), body)

    def SendMessageBatch(self, body: dict) -> dict:
        assert len(body["Entries"]) <= 10, "SQS takes at most 10 entries per batch"
        return {"Successful": [dict(self._add(self._name(body), e), Id=e["Id"]) for e in body["Entries"]],
                "Failed": []}

    def ReceiveMessage(self, body: dict) -> dict:
        name, now = self._name(body), time.monotonic()
        hidden = int(body.get("VisibilityTimeout", self._visibility.get(name, 30)))
        found = []
        for message_id, message in self._queues[name].items():
            if len(found) == min(int(body.get("MaxNumberOfMessages", 1)), 10):
                break
            if message["visible_at"] > now:
                continue
            message["receives"] += 1
            message["visible_at"] = now + hidden
            handle = os.urandom(16).hex()
            self._handles[handle] = (name, message_id)
            found.append({"MessageId": message_id, "ReceiptHandle": handle, "Body": message["body"],
                          "MD5OfBody": hashlib.md5(message["body"].encode()).hexdigest(),
                          "Attributes": {"ApproximateReceiveCount": str(message["receives"])},
                          "MessageAttributes": message["attributes"]})
        return {"Messages": found}

    def DeleteMessageBatch(self, body: dict) -> dict:
        for entry in body["Entries"]:
            name, message_id = self._handles.pop(entry["ReceiptHandle"])
            self.deleted += self._queues[name].pop(message_id, None) is not None
            if not self._queues[name]:
                self.emptied_at = time.monotonic()
        return {"Successful": [{"Id": entry["Id"]} for entry in body["Entries"]], "Failed": []}

    def ChangeMessageVisibility(self, body: dict) -> dict:
        name, message_id = self._handles[body["ReceiptHandle"]]
        if message_id in self._queues[name]:
            self._queues[name][message_id]["visible_at"] = time.monotonic() + int(body["VisibilityTimeout"])
        return {}

    def GetQueueAttributes(self, body: dict) -> dict:
        messages, now = self._queues[self._name(body)].values(), time.monotonic()
        visible = sum(1 for message in messages if message["visible_at"] <= now)
        return {"Attributes": {"ApproximateNumberOfMessages": str(visible),
                               "ApproximateNumberOfMessagesNotVisible": str(len(messages) - visible)}}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        import logging

        from chalicelib.core import config
        from chalicelib.core.aws import client
        from chalicelib.store.profile_links import ProfileLinkItem
        from chalicelib.store.queues import QUEUES
        from dev.seed import seed
        from dev.wecom_sim.generate import generate
        from dev.wecom_sim.harness import start_simulator
        from infra.resources import queue_visibility_timeout

        logging.getLogger("chalicelib").setLevel(logging.ERROR)  # the transport's retry warnings during the storm
        # The run's final progress read: the emulator answers an index query by walking the whole table (20,000 items
        # by the re-run), where DynamoDB reads only the index's pages.
        ProfileLinkItem.Meta.read_timeout_seconds = 60
        self.args = args
        scenario = generate(members=args.members, customers=0, follow_users=0, chains=0, corps_per_chain=0,
                            seed=args.seed)
        scenario["settings"]["rate_limit_per_minute"] = WECOM_LIMIT_PER_MINUTE
        self.corpid = scenario["corps"][0]["corpid"]
        self.sim = start_simulator(scenario)
        os.environ["YQ_WECOM_BASE_URL"] = os.environ["YQ_WECHAT_BASE_URL"] = self.sim.base_url
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as file:
            json.dump(scenario, file, ensure_ascii=False)
        self.tenant = seed(Path(file.name), "tnbench0001")
        os.unlink(file.name)
        names = {config.resource_name(spec.logical_name): queue_visibility_timeout("local", spec) for spec in QUEUES}
        self.sqs = SqsDouble([*names, *(f"{name}-dlq" for name in names)], names)
        self.sqs.install(client("sqs"))

    def run(self) -> int:
        minimum = self.args.members / (self.args.rate / 60)
        print(f"{self.args.members} members, rate limit {self.args.rate}/min per API (WeCom's: "
              f"{WECOM_LIMIT_PER_MINUTE}), {self.args.workers} consumers; theoretical minimum {minimum:.0f} s per run",
              flush=True)
        first = self.one_run("first run", storm=self.args.storm)
        second = self.one_run("re-run", storm=0)
        ok = (first["lost"] == 0 and second["lost"] == 0 and first["sqs_sends"] <= 1000 and second["updates"] == 0
              and first["45009"] == 0 and second["45009"] == 0)
        print("PASS" if ok else "FAIL", flush=True)
        return 0 if ok else 1

    def one_run(self, name: str, storm: int) -> dict:
        from app import app
        from chalicelib.profile_links import runs as link_runs, status as link_status
        from chalicelib.core import config
        from dev.pump import EventPump

        self.sim.simulator.calls.clear()
        self.sqs.calls.clear()
        self.sqs.deleted = 0
        self.sqs.emptied_at = 0.0
        queue = config.resource_name("profile-links")
        pump = EventPump(app)
        stop = threading.Event()

        def consume() -> None:
            while not stop.is_set():
                if not pump.deliver_once(queue):
                    stop.wait(0.2)

        print(f"== {name}", flush=True)
        started = time.monotonic()
        run_id = link_runs.start_bulk_run(self.tenant, trigger="bench")
        workers = [threading.Thread(target=consume, daemon=True) for _ in range(self.args.workers)]
        for worker in workers:
            worker.start()
        stormed = storm == 0
        next_print = started + PROGRESS_EVERY
        while self.sqs.depth(queue):  # done when every message is deleted: processed, none left to retry
            time.sleep(0.2)
            elapsed = time.monotonic() - started
            if not stormed and self.sqs.deleted >= self.args.members / 2:
                self.sim.control.set_fault("user/get", errcode=-1, times=storm)
                print(f"  {elapsed:6.1f}s  storm: WeCom answers -1 to the next {storm} user/get calls", flush=True)
                stormed = True
            if time.monotonic() >= next_print:
                calls = Counter(c["path"].removeprefix("/cgi-bin/") for c in self.sim.simulator.calls.select())
                print(f"  {elapsed:6.1f}s  messages done {self.sqs.deleted:>6}, in the queue {self.sqs.depth(queue):>6}"
                      f"  WeCom user/get {calls['user/get']:>6}  user/update {calls['user/update']:>6}"
                      f"  backoffs {self.sqs.calls['ChangeMessageVisibility']:>3}", flush=True)
                next_print = time.monotonic() + PROGRESS_EVERY
        wall = self.sqs.emptied_at - started
        stop.set()
        for worker in workers:
            worker.join()
        progress = link_status.progress(self.tenant, run_id, failed_limit=5)
        print(f"  the run's progress: {progress['state']}, queued {progress['queued']}, linked {progress['linked']} "
              f"(written {progress['written']}), failed {progress['failed']}, pending {progress['pending']}",
              flush=True)
        return self.report(progress, wall)

    def report(self, progress: dict, wall: float) -> dict:
        from chalicelib.profile_links import link as link_entry

        members = self.args.members
        calls = Counter(c["path"].removeprefix("/cgi-bin/") for c in self.sim.simulator.calls.select())
        errors = Counter(c["errcode"] for c in self.sim.simulator.calls.select() if c["errcode"])
        url = link_entry.link_url(self.tenant)
        corp = self.sim.simulator.state.corps[self.corpid]
        carrying = sum(
            1 for member in corp.members.values()
            if [a for a in member["external_profile"]["external_attr"] if a["name"] == "与我协作"]
            == [{"type": 1, "name": "与我协作", "web": {"url": url, "title": "与我协作"}}]
        )
        dead, queued = self.waiting("profile-links-dlq"), self.waiting("profile-links")
        lost = members - carrying - progress["failed"] - queued  # neither linked, nor recorded failed, nor waiting
        sqs = self.sqs.calls
        sends = sqs["SendMessage"] + sqs["SendMessageBatch"]
        minimum = members / (self.args.rate / 60)
        wecom = sum(n for path, n in calls.items() if path != "gettoken")
        print(f"  SQS send calls        {sends}: {sqs['SendMessageBatch']} SendMessageBatch (10 members each) + "
              f"{sqs['SendMessage']} SendMessage (the run's start); target <= 1000 for the members; "
              f"{sqs['ChangeMessageVisibility']} backoffs", flush=True)
        print(f"  WeCom calls           {wecom} = {wecom / members:.2f} per member (user/get {calls['user/get']}, "
              f"user/update {calls['user/update']}, user/list_id {calls['user/list_id']}; gettoken "
              f"{calls['gettoken']}); errors {dict(errors) or 'none'}", flush=True)
        print(f"  wall time             {wall:.1f} s vs theoretical minimum {minimum:.1f} s "
              f"(x{wall / minimum:.2f})", flush=True)
        print(f"  members linked        {carrying} of {members}; failed {progress['failed']} (dead letters {dead}); "
              f"still queued {queued}", flush=True)
        print(f"  messages lost         {lost}", flush=True)
        return {"lost": lost, "sqs_sends": sqs["SendMessageBatch"], "updates": calls["user/update"],
                "45009": errors.get(45009, 0)}

    @staticmethod
    def waiting(logical_name: str) -> int:
        """Messages in a queue, visible or not."""
        from chalicelib.core.aws import client
        from chalicelib.store import queues

        attributes = client("sqs").get_queue_attributes(QueueUrl=queues.url(logical_name), AttributeNames=["All"])
        return sum(int(count) for count in attributes["Attributes"].values())

if __name__ == "__main__":
    raise SystemExit(main())
