"""One boto3 client per service per process, created on first use.

boto3 is imported lazily: most invocations never touch SQS or Secrets Manager, and importing boto3 costs a cold
start a quarter of a second.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.core import config


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        region_name=config.region(),
        endpoint_url=config.aws_endpoint(),
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}),
    )
