"""Structured JSON logs and metrics, shared by every handler.

One JSON object per line with the keys CloudWatch Logs Insights queries on (`level`, `message`, `timestamp`,
`service`, `location`, and an error's `exception`); the tenantKey and request id are appended per invocation so one
tenant's or one request's trail can be followed end to end. Metrics are CloudWatch embedded metric format lines: no
API call on the hot path. Both are the standard library's: Powertools did the same and cost every cold start about
15 ms of imports (its package loads its logger, metrics and tracer together). The level is `POWERTOOLS_LOG_LEVEL`,
the variable the stages already set.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any

SERVICE = "yunqiao"
NAMESPACE = "Yunqiao"
# What a LogRecord carries of its own: anything else on it came from `extra=` and goes into the line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class _JsonLines(logging.Formatter):
    def __init__(self, keys: dict[str, Any]) -> None:
        super().__init__()
        self.keys = keys

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "service": SERVICE,
            **self.keys,
            **{key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES},
        }
        if record.exc_info:
            line["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class Logger(logging.LoggerAdapter):
    """`logger.info(message, extra={...})` and the rest of logging's calls, plus keys kept on every line."""

    def __init__(self, service: str) -> None:
        base = logging.getLogger(service)
        base.propagate = False
        self.keys: dict[str, Any] = {}
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_JsonLines(self.keys))
        base.handlers = [handler]
        base.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper())
        super().__init__(base, {})

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return msg, kwargs

    def append_keys(self, **keys: Any) -> None:
        self.keys.update(keys)

    def remove_keys(self, names: list[str]) -> None:
        for name in names:
            self.keys.pop(name, None)


logger = Logger(SERVICE)


def bind_request(request_id: str | None, tenant_key: str | None = None) -> None:
    """Start a fresh log context for one invocation: nothing of the previous invocation leaks into it."""
    logger.remove_keys(["tenantKey", "requestId"])
    keys = {"requestId": request_id}
    if tenant_key:
        keys["tenantKey"] = tenant_key
    logger.append_keys(**keys)


def bind_tenant(tenant_key: str) -> None:
    logger.append_keys(tenantKey=tenant_key)


def count(name: str, **dimensions: str) -> None:
    """One CloudWatch count (embedded metric format, written to the log at once: no API call on the hot path)."""
    metric = {"Namespace": NAMESPACE, "Dimensions": [sorted(dimensions)], "Metrics": [{"Name": name, "Unit": "Count"}]}
    line = {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [metric]}, name: [1.0], **dimensions}
    print(json.dumps(line, ensure_ascii=False), flush=True)
