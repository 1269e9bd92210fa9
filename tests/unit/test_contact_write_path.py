"""Every write of a contact goes through the contact write path (chalicelib/directory/contact_writes.py).

Read from the source: outside the store and the path itself, the contacts and contact-access tables' write
operations are only ever named inside the commit of a `Change` (a lambda or a nested function handed to it), no
model of those tables is built, and no other table's module touches them.
"""
from __future__ import annotations

import ast
from pathlib import Path

import chalicelib

ROOT = Path(chalicelib.__file__).parent
PATH_MODULE = ROOT / "directory" / "contact_writes.py"
TABLE_MODULES = {"contacts", "contact_access"}
WRITES = {
    "put_new", "put_new_in", "update_at_version_in", "delete_at_version_in", "update_status_in", "update_existing",
    "update_if_filed_under", "upsert", "merge_followers", "drop_follower", "update_if_unfollowed", "put_follows",
    "delete_follows", "put_entries", "delete_entries",
}
MODELS = {"Contact", "AccessEntry", "CustomerFollow"}
PATH_CALLS = {"Change", "move_account_status"}


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if p != PATH_MODULE)


def _table_aliases(tree: ast.AST) -> set[str]:
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.store":
            aliases |= {name.asname or name.name for name in node.names if name.name in TABLE_MODULES}
    return aliases


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _enclosing_function(node: ast.AST, parents: dict) -> ast.FunctionDef | None:
    while not isinstance(node, ast.FunctionDef):
        if node not in parents:
            return None
        node = parents[node]
    return node


def _handed_to_path(node: ast.AST, parents: dict) -> bool:
    """The reference sits in a lambda passed to Change/move_account_status, or in a nested function whose name the
    enclosing function passes to one."""
    current = node
    while current in parents:
        parent = parents[current]
        if isinstance(current, ast.Lambda) and isinstance(parent, (ast.Call, ast.keyword)):
            call = parent if isinstance(parent, ast.Call) else parents[parent]
            if _call_name(call) in PATH_CALLS:
                return True
        if isinstance(current, ast.FunctionDef):
            enclosing = _enclosing_function(parent, parents)
            return enclosing is not None and any(
                isinstance(call, ast.Call) and _call_name(call) in PATH_CALLS
                and any(isinstance(arg, ast.Name) and arg.id == current.name
                        for arg in list(call.args) + [k.value for k in call.keywords])
                for call in ast.walk(enclosing)
            )
        current = parent
    return False


def test_only_the_write_path_writes_contacts():
    stray = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_store = path.parent.name == "store"
        if in_store and path.stem in TABLE_MODULES | {"tables"}:
            continue
        parents, aliases = _parents(tree), _table_aliases(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom) and node.module in {f"chalicelib.store.{m}" for m in TABLE_MODULES}:
                stray += [f"{where} imports {n.name}" for n in node.names
                          if n.name in WRITES or (in_store and n.name in MODELS)]
            elif isinstance(node, ast.Call) and _call_name(node) in MODELS:
                stray.append(f"{where} builds a {_call_name(node)}")
            elif (isinstance(node, ast.Attribute) and node.attr in WRITES and isinstance(node.value, ast.Name)
                  and node.value.id in aliases and not _handed_to_path(node, parents)):
                stray.append(f"{where} calls {node.value.id}.{node.attr} outside a Change")
    assert stray == []


def test_every_writer_takes_the_path():
    callers = set()
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and node.value.id == "contact_writes" and node.attr in {"write", "write_one", "move_account_status"}
               for node in ast.walk(tree)):
            callers.add(str(path.relative_to(ROOT)))
    assert callers == {"directory/contacts.py", "directory/customers.py", "directory/chain_contacts.py",
                       "directory/tree.py", "accounts/service.py", "accounts/applications.py"}


def test_the_check_sees_a_stray_write():
    source = ("from chalicelib.store import contacts as c\n"
              "def f():\n    c.update_existing('t', 'x', {})\n"
              "def g():\n    write_one(Change('t', 'x', {}, lambda r: c.update_existing('t', 'x', r)))\n"
              "def h(new):\n    if new:\n        def commit(r):\n            return c.put_new('t', 'x', r)\n"
              "    return write_one(Change('t', 'x', {}, commit))\n"
              "def commit(r):\n    return c.put_new('t', 'x', r)\n")
    tree = ast.parse(source)
    parents, aliases = _parents(tree), _table_aliases(tree)
    found = {node.lineno: _handed_to_path(node, parents) for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr in WRITES and node.value.id in aliases}
    assert found == {3: False, 5: True, 9: True, 12: False}
