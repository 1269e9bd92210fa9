"""WeCom's errcodes are read in one place: the predicates of `WeComApiError`, so no code outside `chalicelib.wecom`
compares errcodes by number. And `chalicelib.wecom` knows nothing of Yunqiao: it imports no other package of it (base
URLs, like every setting, are given by the caller)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.wecom.errors import WeComApiError

WECOM = Path(__file__).resolve().parents[3] / "chalicelib" / "wecom"

PREDICATES = {
    "transient": {-1, 45009, 45033},
    "token_invalid": {40001, 40014, 42001, 42009, 40082},
    "rate_limited": {45009, 45033},
    "frequency_limited": {45009},
    "unknown_user": {60111},
    "member_not_found": {46004, 60103, 60105, 60111},
    "customer_gone": {40096, 84061},
    "message_refused": {81013, 40056, 301002, 60020, 48002},
    "not_following": {43004},
    "template_refused": {40037, 40003},
}
EVERY_CODE = sorted(set().union(*PREDICATES.values()) | {0, 40029, 48003, 60011, 99999})


@pytest.mark.parametrize("name, codes", sorted(PREDICATES.items()))
def test_each_predicate_holds_for_its_errcodes_only(name, codes):
    holds = {code for code in EVERY_CODE if getattr(WeComApiError(code, "msg", "some/path"), name)}
    assert holds == codes


def test_the_protocol_package_imports_nothing_else_of_yunqiao():
    outside = []
    for path in sorted(WECOM.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            outside += [f"{path.name}: {name}" for name in names
                        if name.startswith("chalicelib") and not name.startswith("chalicelib.wecom")]
    assert outside == []


def test_no_code_outside_the_protocol_package_compares_errcodes():
    chalicelib = WECOM.parent
    compared = []
    for path in sorted(chalicelib.rglob("*.py")):
        if WECOM in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare) or all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                continue  # `errcode is None` reads a stored record, not a WeCom answer
            sides = [node.left, *node.comparators]
            if any(isinstance(side, ast.Attribute) and side.attr == "errcode" for side in sides):
                compared.append(f"{path.relative_to(chalicelib)}:{node.lineno}")
    assert compared == []
