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


def test_every_documented_operation_names_its_error_shape():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert any(status.startswith("2") for status in statuses), (path, method)
