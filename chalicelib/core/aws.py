"""One botocore session per process, and one client per service made from it.

Each botocore session loads its own copy of the endpoint and service data and resolves credentials again (70–200 ms
and several MB of a cold start each), so every client of the process — SQS, Secrets Manager and PynamoDB's DynamoDB
connection (`chalicelib.store.base`) — is made from the one session here. Clients are thread-safe; making them from
one session is not, hence the lock.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.config import Config

from chalicelib.core import config

CLIENT_LOCK = threading.RLock()


@lru_cache(maxsize=None)
def session() -> botocore.session.Session:
    """The process's botocore session (credentials are resolved once, by the first client)."""
    return botocore.session.get_session()


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    with CLIENT_LOCK:
        return session().create_client(
            service,
            region_name=config.region(),
            endpoint_url=config.aws_endpoint(),
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}),
        )
