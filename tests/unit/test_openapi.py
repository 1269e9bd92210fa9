"""The OpenAPI document stays true: every route the app serves is documented, and nothing else is."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_route_is_documented_and_every_documented_route_exists():
    from app import app

    served = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {(path, method) for path, item in document["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"}}
    assert served == documented


ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
ERROR_RESPONSE = {"$ref": "#/components/responses/Error"}
# The refusals whose body is not the error shape, each for a reason the document states.
NOT_ERROR_SHAPED = {
    ("/healthz", "get", "503"),  # the health report itself, for load balancers and people: which table is down
}


def _is_page(operation: dict) -> bool:
    """Pages answer 200 to any query (the page shows the API's refusal), so they document no refusal of their own."""
    return "text/html" in ((operation["responses"].get("200") or {}).get("content") or {})


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_the_error_schema_is_the_shape_every_refusal_has():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    assert {name: field["type"] for name, field in error["properties"]["error"]["properties"].items()} == {
        "code": "string", "message": "string"}
    assert document["components"]["responses"]["Error"]["content"] == {"application/json": {"schema": ERROR_SCHEMA}}


def test_every_documented_operation_names_its_success_and_its_refusals_have_the_error_shape():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    unshaped, silent = [], []
    for path, method, operation in _operations(document):
        responses = {str(status): answer for status, answer in operation["responses"].items()}
        assert any(status.startswith("2") for status in responses), (path, method)
        refusals = {status: answer for status, answer in responses.items() if status[0] in "45"}
        if not refusals and not _is_page(operation):
            silent.append((path, method))
        for status, answer in refusals.items():
            shaped = answer == ERROR_RESPONSE or answer.get("content") == {"application/json": {"schema": ERROR_SCHEMA}}
            if shaped == ((path, method, status) in NOT_ERROR_SHAPED):
                unshaped.append((path, method, status))
    assert unshaped == [] and silent == []
