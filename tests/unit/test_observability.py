"""Logs are JSON lines with the invocation's tenantKey and request id; metrics are embedded-metric-format lines."""
from __future__ import annotations

import json

from chalicelib.core import observability


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_log_line_carries_the_invocation_keys_and_its_extra_fields(capsys, monkeypatch):
    monkeypatch.setattr(observability, "logger", observability.Logger("yunqiao-test"))
    observability.bind_request("req-1", "tn-a")
    observability.logger.info("callback queued", extra={"kind": "change_contact"})
    observability.bind_request("req-2")  # the next invocation: no tenant of the previous one
    observability.logger.debug("not at INFO")
    try:
        raise ValueError("bad")
    except ValueError:
        observability.logger.exception("failed")
    first, second = lines(capsys)
    assert first["level"] == "INFO" and first["message"] == "callback queued" and first["kind"] == "change_contact"
    assert (first["tenantKey"], first["requestId"], first["service"]) == ("tn-a", "req-1", "yunqiao")
    assert first["location"].startswith("test_a_log_line_carries_the_invocation_keys_and_its_extra_fields:")
    assert second["requestId"] == "req-2" and "tenantKey" not in second
    assert second["level"] == "ERROR" and second["exception_name"] == "ValueError" and "bad" in second["exception"]


def test_a_count_is_one_embedded_metric_line(capsys):
    observability.count("CallbackRejected", reason="invalid_signature")
    (line,) = lines(capsys)
    metric = line["_aws"]["CloudWatchMetrics"][0]
    assert metric == {"Namespace": "Yunqiao", "Dimensions": [["reason"]],
                      "Metrics": [{"Name": "CallbackRejected", "Unit": "Count"}]}
    assert line["CallbackRejected"] == [1.0] and line["reason"] == "invalid_signature"
    assert isinstance(line["_aws"]["Timestamp"], int)
