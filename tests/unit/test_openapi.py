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


ERROR_RESPONSE = "#/components/responses/Error"
ERROR_SCHEMA = "#/components/schemas/Error"


def _json_schema(response: dict) -> dict | None:
    return ((response.get("content") or {}).get("application/json") or {}).get("schema")


def test_every_documented_operation_names_its_error_shape():
    """Every operation has a success answer, every 4xx it documents is the error shape, and every 5xx says what
    its JSON body is (the error shape, or /healthz's table report)."""
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]
    assert _json_schema(document["components"]["responses"]["Error"]) == {"$ref": ERROR_SCHEMA}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            statuses = set(operation["responses"])
            assert any(status.startswith("2") for status in statuses), (path, method)
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response.get("$ref") == ERROR_RESPONSE or _json_schema(response) == {
                        "$ref": ERROR_SCHEMA}, (path, method, status)
                elif status.startswith("5"):
                    assert response.get("$ref") == ERROR_RESPONSE or _json_schema(response), (path, method, status)
