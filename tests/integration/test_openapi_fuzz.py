"""The OpenAPI document as an attacker's script: schemathesis generates requests for every documented operation —
valid ones and ones that break the schema — and sends them to the app under `chalice local` (the emulator and the
WeCom simulator behind it). No answer may be a server error, and every refusal must be our error shape.

Small and repeatable on purpose: a few examples per operation, derandomized (the same requests every run), no
example database, so it runs in `make test` in well under a minute.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 5
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
_sent: list[float] = []  # seconds per answer


@pytest.fixture(scope="module", autouse=True)
def _report():
    """How many requests the fuzzer sent and how long it took (printed with -s; figures for the docs)."""
    started = time.monotonic()
    yield
    print(f"\nopenapi fuzz: {len(_sent)} requests in {time.monotonic() - started:.1f} s")


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_request_the_document_allows_or_forbids_is_a_server_error(case, app_server):
    response = case.call(base_url=app_server, timeout=30)
    _sent.append(response.elapsed)
    assert response.status_code < 500 or (case.path == "/healthz" and response.status_code == 503), (
        case.method, case.formatted_path, response.status_code, response.text[:300])
    if response.status_code >= 400 and case.path != "/healthz":
        error = json.loads(response.text)["error"]
        assert set(error) == {"code", "message"} and len(error["message"]) <= 300, (case.method, case.path)
