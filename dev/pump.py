"""The local event pump: what Lambda's SQS pollers and EventBridge do in AWS, which `chalice local` does not.

It reads the app's own event sources, so every consumer and schedule registered in a blueprint is served with no
list to keep. SQS messages are delivered in Lambda's event shape (distinct messageIds, receive counts) to the same
handler objects Lambda calls; a batch's reported failures stay on the queue (their visibility as the consumer set
it) and the rest are deleted, exactly as an event source mapping with ReportBatchItemFailures does. Tests use
`EventPump` to drive consumers through their real entry points.
"""
from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from chalicelib.core import config
from chalicelib.core.aws import client

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass
class LambdaContext:
    """The parts of Lambda's context object our handlers read."""

    function_name: str
    timeout_seconds: float = 60.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"the local pump fires rate(...) schedules only, not {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def _resolve(handler_string: str) -> Any:
    module, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


class EventPump:
    def __init__(self, app: Any, timeout_seconds: float = 60.0) -> None:
        from chalice.app import ScheduledEventConfig, SQSEventConfig

        self.timeout_seconds = timeout_seconds
        self.consumers = {s.queue: s for s in app.event_sources if isinstance(s, SQSEventConfig)}
        self.schedules = {s.name: s for s in app.event_sources if isinstance(s, ScheduledEventConfig)}
        self._queue_urls: dict[str, str] = {}

    def queue_url(self, queue: str) -> str:
        if queue not in self._queue_urls:
            self._queue_urls[queue] = client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
        return self._queue_urls[queue]

    def deliver_once(self, queue: str, wait_seconds: int = 0) -> int:
        """Receive one batch from the queue and hand it to its consumer; returns how many messages were delivered."""
        source = self.consumers[queue]
        sqs = client("sqs")
        url = self.queue_url(queue)
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(source.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        arn = f"arn:aws:sqs:{config.region()}:000000000000:{queue}"
        records = [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": config.region(),
            }
            for message in received
        ]
        context = LambdaContext(source.name, self.timeout_seconds)
        try:
            result = _resolve(source.handler_string)({"Records": records}, context)
        except Exception as err:  # a crashed invocation: Lambda leaves the whole batch on the queue
            print(json.dumps({"pump": "consumer crashed", "queue": queue, "error": repr(err)}), file=sys.stderr)
            return len(records)
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done[start:start + 10])]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        return len(records)

    def drain(self, queue: str, max_batches: int = 1000) -> int:
        """Deliver until the queue shows nothing more to receive now; returns messages delivered."""
        total = 0
        for _ in range(max_batches):
            delivered = self.deliver_once(queue)
            if not delivered:
                return total
            total += delivered
        raise RuntimeError(f"{queue} still had messages after {max_batches} batches")

    def fire(self, schedule_name: str) -> Any:
        """Invoke a schedule's handler with an EventBridge 'Scheduled Event'."""
        source = self.schedules[schedule_name]
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": config.region(),
            "resources": [f"arn:aws:events:{config.region()}:000000000000:rule/{source.name}"],
            "detail": {},
        }
        return _resolve(source.handler_string)(event, LambdaContext(source.name, self.timeout_seconds))

    def run_forever(self, stop: threading.Event) -> None:
        next_fire = {name: time.monotonic() + rate_seconds(s.schedule_expression) for name, s in self.schedules.items()}
        while not stop.is_set():
            busy = False
            for queue in self.consumers:
                try:
                    busy = bool(self.deliver_once(queue)) or busy
                except Exception as err:
                    print(json.dumps({"pump": "delivery failed", "queue": queue, "error": repr(err)}), file=sys.stderr)
            now = time.monotonic()
            for name, due in next_fire.items():
                if now >= due:
                    next_fire[name] = now + rate_seconds(self.schedules[name].schedule_expression)
                    print(json.dumps({"pump": "schedule fired", "schedule": name}), flush=True)
                    try:
                        self.fire(name)
                    except Exception as err:
                        print(json.dumps({"pump": "schedule failed", "schedule": name, "error": repr(err)}), file=sys.stderr)
            if not busy:
                stop.wait(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description="Deliver SQS messages and fire schedules to the app's handlers.")
    parser.parse_args()
    sys.path.insert(0, ".")
    import app

    pump = EventPump(app.app)
    print(json.dumps({"pump": "started", "queues": sorted(pump.consumers), "schedules": sorted(pump.schedules)}), flush=True)
    try:
        pump.run_forever(threading.Event())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
