"""What every table model shares: where the table is and how PynamoDB reaches it.

Table names and the endpoint come from configuration at import time, so the same models run against the local
emulator and real DynamoDB. `infra/` renders the CloudFormation tables from these models, which makes the models
the one definition of every table's keys and indexes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from chalicelib.core import config


def table_meta(logical_name: str) -> type:
    """A PynamoDB `Meta` for the table with this logical name in the current stage."""
    return type(
        "Meta",
        (),
        {
            "logical_name": logical_name,
            "table_name": config.resource_name(logical_name),
            "region": config.region(),
            "host": config.aws_endpoint(),
            "billing_mode": "PAY_PER_REQUEST",
            "connect_timeout_seconds": 2,
            "read_timeout_seconds": 5,
            "max_retry_attempts": 3,
        },
    )


def transaction_connection():
    """The connection PynamoDB transactions need (models carry their own; transactions span models)."""
    from pynamodb.connection import Connection

    return Connection(region=config.region(), host=config.aws_endpoint())


CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Transaction:
    """How one TransactWriteItems ended: committed (`reasons` None), or cancelled with each write's cancellation
    reason code, in the order the writes were added (None for a write that was not a cause)."""

    reasons: tuple[str | None, ...] | None = None

    @property
    def committed(self) -> bool:
        return self.reasons is None

    @property
    def failed(self) -> tuple[bool, ...]:
        """Per write, whether its condition failed. A cancelled transaction with none failing was held up by another
        transaction on one of its items (TransactionConflict): trying again may succeed."""
        return tuple(reason == CONDITION_FAILED for reason in self.reasons or ())


def transact(build: Callable[[Any], None]) -> Transaction:
    """Run the writes `build(transaction)` adds as one TransactWriteItems, and say how it ended. Only a cancellation
    is answered; anything else — throttling beyond the SDK's retries, a bad request — raises."""
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite

    try:
        with TransactWrite(connection=transaction_connection()) as transaction:
            build(transaction)
    except TransactWriteError as err:
        if err.cause_response_code != "TransactionCanceledException":
            raise
        return Transaction(tuple(reason.code if reason else None for reason in err.cancellation_reasons))
    return Transaction()


def conditional_update(item: Any, actions: list, condition: Any) -> bool:
    """UpdateItem if `condition` holds; False (not an error) when another writer got there first or it fails."""
    from pynamodb.exceptions import UpdateError

    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as err:
        if err.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def conditional_save(item: Any, condition: Any) -> bool:
    """PutItem if `condition` holds (typically: no such item yet); False when it does not."""
    from pynamodb.exceptions import PutError

    try:
        item.save(condition=condition)
    except PutError as err:
        if err.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit


def batch_get_in_tenant(model: Any, tenant_key: str, range_keys: Iterable[str], range_attribute: str) -> dict[str, Any]:
    """The existing items of one tenant among these range keys, by key: one request per 100 keys, not one per item."""
    wanted = list(dict.fromkeys(range_keys))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        keys = [(tenant_key, key) for key in wanted[start : start + BATCH_GET_KEYS]]
        for item in model.batch_get(keys, consistent_read=True):
            found[getattr(item, range_attribute)] = item
    return found
