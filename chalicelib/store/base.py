"""What every table model shares: where the table is and how PynamoDB reaches it.

Table names and the endpoint come from configuration at import time, so the same models run against the local
emulator and real DynamoDB. `infra/` renders the CloudFormation tables from these models, which makes the models
the one definition of every table's keys and indexes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable

import botocore.session
from pynamodb.connection import Connection
from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import PutError, TableError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import aws, config

_LIMITS = {"connect_timeout_seconds": 2, "read_timeout_seconds": 5, "max_retry_attempts": 3}


class _SharedSessionConnection(Connection):
    """PynamoDB's connection made from the process's botocore session (`chalicelib.core.aws`) instead of a session of
    its own per model and per thread."""

    @property
    def session(self) -> botocore.session.Session:
        return aws.session()

    @property
    def client(self) -> Any:
        with aws.CLIENT_LOCK:
            return super().client


@lru_cache(maxsize=None)
def connection() -> Connection:
    """The one DynamoDB connection of the models — every model's table connection uses it, so there is one client
    and one connection pool for all tables (PynamoDB 6.1 has no setting for this)."""
    return _SharedSessionConnection(region=config.region(), host=config.aws_endpoint(), **_LIMITS)


class TableModel(Model):
    """The base of every table model: PynamoDB builds the table's connection (its key schema and indexes) on first use;
    this swaps the fresh `Connection` inside it, before it makes a client, for the shared one."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        shared = connection()
        if table.connection is not shared:
            with aws.CLIENT_LOCK:  # a table's row types (discriminator subclasses) each build one, maybe at once
                try:
                    shared.get_meta_table(table.table_name)
                except TableError:
                    shared.add_meta_table(table.get_meta_table())
            table.connection = shared
        return table


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
            **_LIMITS,
        },
    )


@lru_cache(maxsize=None)
def transaction_connection() -> Connection:
    """The connection PynamoDB transactions need (they span models): from the same botocore session, but with the
    longer timeouts transactions have always had — a TransactWriteItems retried after a read timeout can meet its
    own first attempt, already committed, and report a conflict that is not one."""
    return _SharedSessionConnection(region=config.region(), host=config.aws_endpoint())


CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Transaction:
    """How one TransactWriteItems ended: committed (`reasons` None), or cancelled with each write's cancellation
    reason code, in the order the writes were added (None for a write that was not a cause)."""

    reasons: tuple[str | None, ...] | None = None

    @property
    def committed(self) -> bool:
        return self.reasons is None

    def __bool__(self) -> bool:
        """True when committed, so a writer can answer a transaction's outcome wherever a bool is expected."""
        return self.committed

    @property
    def failed(self) -> tuple[bool, ...]:
        """Per write, whether its condition failed. A cancelled transaction with none failing was held up by another
        transaction on one of its items (TransactionConflict): trying again may succeed."""
        return tuple(reason == CONDITION_FAILED for reason in self.reasons or ())


def transact(build: Callable[[Any], None]) -> Transaction:
    """Run the writes `build(transaction)` adds as one TransactWriteItems, and say how it ended. Only a cancellation
    is answered; anything else — throttling beyond the SDK's retries, a bad request — raises."""
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
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as err:
        if err.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def conditional_save(item: Any, condition: Any) -> bool:
    """PutItem if `condition` holds (typically: no such item yet); False when it does not."""
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
