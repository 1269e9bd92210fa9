"""Structured JSON logs and metrics, shared by every handler.

Powertools writes one JSON object per line with the keys CloudWatch Logs Insights queries on; the tenantKey and
request id are appended per invocation so one tenant's or one request's trail can be followed end to end.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(service="yunqiao")


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
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace="Yunqiao") as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
