"""The work queues (SQS): which exist, and sending to and managing them by logical name.

`QUEUES` is the one list of queues: infra/ renders each with its dead-letter queue, and each consumer is declared
with its spec. Queue URLs come from the environment (or are looked up once per process); message bodies are JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from chalicelib.core import config
from chalicelib.core.aws import client


@dataclass(frozen=True)
class QueueSpec:
    """A work queue, its consumer function and how often a message may be received before it is dead-lettered.

    `hold_seconds`, for consumers that run long: the consumer hides its message for this long and renews it while it
    works, so a crashed invocation's message is back in that time rather than after the queue's visibility timeout
    (which Lambda wants at least the function's timeout)."""

    logical_name: str
    consumer: str
    max_receive_count: int = 5
    batch_size: int = 10
    hold_seconds: int | None = None


CALLBACKS = QueueSpec("callbacks", consumer="process_callbacks")
PROFILE_LINKS = QueueSpec("profile-links", consumer="process_profile_links", max_receive_count=8)
SYNC = QueueSpec("sync", consumer="process_sync", max_receive_count=5, batch_size=1, hold_seconds=120)
NOTIFICATIONS = QueueSpec("notifications", consumer="process_notifications", max_receive_count=6)
FOLLOWERS = QueueSpec("followers", consumer="process_followers", max_receive_count=5, batch_size=1)
QUEUES: tuple[QueueSpec, ...] = (CALLBACKS, PROFILE_LINKS, SYNC, NOTIFICATIONS, FOLLOWERS)


@lru_cache(maxsize=None)
def url(logical_name: str) -> str:
    """As the deployment sets it; else (the local stack, a queue the function was not given) one GetQueueUrl."""
    return config.queue_url(logical_name) or client("sqs").get_queue_url(
        QueueName=config.resource_name(logical_name))["QueueUrl"]


def send(logical_name: str, body: dict, delay_seconds: int = 0) -> str:
    reply = client("sqs").send_message(
        QueueUrl=url(logical_name),
        MessageBody=json.dumps(body, ensure_ascii=False),
        DelaySeconds=delay_seconds,
    )
    return reply["MessageId"]


BATCH_ENTRIES = 10  # SendMessageBatch's limit
BATCH_ATTEMPTS = 3


def send_batch(logical_name: str, bodies: Sequence[dict], delays: Sequence[int] | None = None) -> None:
    """Send many messages, ten per SendMessageBatch call (a tenth of the calls and requests of `send`).

    `delays[i]` (0-900 s) holds message i back, which lets a bulk producer pace work it queues. SQS can refuse single
    entries of an accepted batch (throttling, an internal error): those are sent again, and an entry still refused
    raises, so the caller's own retry covers it and no message is silently left out.
    """
    sqs = client("sqs")
    for start in range(0, len(bodies), BATCH_ENTRIES):
        entries = {
            str(n): {
                "Id": str(n),
                "MessageBody": json.dumps(body, ensure_ascii=False),
                "DelaySeconds": int(delays[start + n]) if delays else 0,
            }
            for n, body in enumerate(bodies[start : start + BATCH_ENTRIES])
        }
        for _ in range(BATCH_ATTEMPTS):
            reply = sqs.send_message_batch(QueueUrl=url(logical_name), Entries=list(entries.values()))
            failed = reply.get("Failed", [])
            if not failed:
                break
            if any(entry.get("SenderFault") for entry in failed):
                raise RuntimeError(f"{logical_name}: SendMessageBatch refused entries: {failed}")
            entries = {entry["Id"]: entries[entry["Id"]] for entry in failed}
        else:
            raise RuntimeError(f"{logical_name}: SendMessageBatch kept failing entries: {failed}")


def set_visibility(logical_name: str, receipt_handle: str, seconds: int) -> None:
    """Hide a failed message for `seconds`: this is how a consumer backs off before SQS redelivers it."""
    client("sqs").change_message_visibility(
        QueueUrl=url(logical_name), ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )


def dead_letter(logical_name: str, body: str, reason: str, detail: str, receive_count: int) -> None:
    """Move a message to the queue's dead-letter queue with why it failed, for an operator to read or redrive."""
    client("sqs").send_message(
        QueueUrl=url(f"{logical_name}-dlq"),
        MessageBody=body,
        MessageAttributes={
            "reason": {"DataType": "String", "StringValue": reason},
            "detail": {"DataType": "String", "StringValue": detail[:1000] or "-"},
            "sourceQueue": {"DataType": "String", "StringValue": logical_name},
            "receiveCount": {"DataType": "Number", "StringValue": str(receive_count)},
        },
    )
