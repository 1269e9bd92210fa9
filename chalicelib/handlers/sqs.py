"""How every SQS consumer treats its batch: partial failures, backoff, and dead letters that say why.

Lambda's event source mapping (with ReportBatchItemFailures) deletes the messages we do not list as failed.
A failed message is hidden for an exponentially growing, jittered delay (ChangeMessageVisibility) before SQS
redelivers it; at its last attempt, or when the failure is permanent, it is moved to the dead-letter queue by us,
with the reason as message attributes, rather than left for the redrive policy to move silently. The redrive
policy stays as the net for a crashed invocation.
"""
from __future__ import annotations

import json
import random
from functools import partial
from typing import Any, Callable

from chalicelib.core.heartbeat import Heartbeat
from chalicelib.core.errors import PermanentError, RetryLater
from chalicelib.core.observability import bind_request, bind_tenant, count, logger
from chalicelib.store import queues

BASE_DELAY_SECONDS = 2
MAX_DELAY_SECONDS = 900


def backoff_seconds(receive_count: int) -> int:
    """Full jitter on an exponential ceiling: retries of a burst spread out instead of returning together."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, receive_count - 1))
    return max(1, int(random.uniform(ceiling / 2, ceiling)))


def consume(event: Any, queue: str, handle: Callable[[dict], None], max_receives: int,
            hold_seconds: int | None = None) -> dict:
    """Run `handle` on each message body; returns Lambda's batchItemFailures answer. With `hold_seconds`, each message
    is hidden for that long while `handle` runs and the hold renewed every third of it (`QueueSpec.hold_seconds`)."""
    failures = []
    for record in event:
        raw = record.to_dict()
        message_id = raw["messageId"]
        receive_count = int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        bind_request(message_id)
        try:
            body = json.loads(record.body)
            if not isinstance(body, dict):
                raise PermanentError("malformed_message", "body is not a JSON object")
            if body.get("tenantKey"):
                bind_tenant(body["tenantKey"])
            if hold_seconds:
                _held(queue, record.receipt_handle, hold_seconds, lambda: handle(body))
            else:
                handle(body)
        except json.JSONDecodeError as err:
            _dead_letter(queue, record, "malformed_message", str(err), receive_count)
        except PermanentError as err:
            _dead_letter(queue, record, err.reason, err.detail, receive_count)
        except RetryLater as err:
            if not _retry(queue, record, receive_count, max_receives, err.seconds, err.reason, ""):
                continue
            failures.append(message_id)
        except Exception as err:
            logger.exception("message failed", extra={"queue": queue, "receiveCount": receive_count})
            if not _retry(queue, record, receive_count, max_receives, backoff_seconds(receive_count),
                          "retries_exhausted", repr(err)):
                continue
            failures.append(message_id)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}


def _held(queue: str, receipt_handle: str, seconds: int, work: Callable[[], None]) -> None:
    hold = partial(queues.set_visibility, queue, receipt_handle, seconds)
    hold()
    with Heartbeat(seconds / 3, hold):
        work()


def _retry(queue: str, record: Any, receive_count: int, max_receives: int, delay: int, reason: str, detail: str) -> bool:
    """Hide the message for `delay` s; False when it has had its last attempt and was dead-lettered instead."""
    if receive_count >= max_receives:
        _dead_letter(queue, record, reason, detail, receive_count)
        return False
    queues.set_visibility(queue, record.receipt_handle, min(delay, MAX_DELAY_SECONDS))
    count("QueueRetry", queue=queue)
    return True


def _dead_letter(queue: str, record: Any, reason: str, detail: str, receive_count: int) -> None:
    queues.dead_letter(queue, record.body, reason, detail, receive_count)
    count("DeadLettered", queue=queue, reason=reason)
    logger.error("message dead-lettered", extra={"queue": queue, "reason": reason, "detail": detail[:500]})
