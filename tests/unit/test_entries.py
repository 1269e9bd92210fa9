"""The API's split across Lambda functions (chalicelib.entries): every blueprint is registered, every route is served by
exactly one function, and each function's entry registers its family's blueprints and imports nothing more.

Apps other than app.py's are built in fresh interpreters: Chalice consumes a blueprint's route options when it
registers it, so one blueprint registers correctly on one app per process (as in Lambda, where a process loads one
entry).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.entries import API_FUNCTIONS, CATCH_ALL, function_of

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"chalicelib.handlers.api", "chalicelib.handlers.invocation"}  # every entry's middleware and blueprint class
# handler modules whose helpers other handlers import (the session checks): imported, their routes not registered
HELPERS = {"chalicelib.handlers.auth", "chalicelib.handlers.accounts"}
ROUTES = """
def routes(app):
    return sorted([path, method, route.view_function.__module__, route.view_function.__qualname__]
                  for path, methods in app.routes.items() for method, route in methods.items())
"""


def in_fresh_interpreter(code: str) -> dict:
    answer = subprocess.run([sys.executable, "-c", ROUTES + code], cwd=ROOT, capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr[-3000:]
    return json.loads(answer.stdout.splitlines()[-1])


def app_py_routes() -> set[tuple[str, ...]]:
    from app import app

    return {(path, method, route.view_function.__module__, route.view_function.__qualname__)
            for path, methods in app.routes.items() for method, route in methods.items()}


def test_every_blueprint_in_the_handlers_is_registered_in_app_py():
    """A blueprint registered nowhere would be served by no function: each handler module's routes and queue or
    schedule handlers must all be app.py's (whose routes are then each given one function, below)."""
    from app import app

    alone = in_fresh_interpreter("""
import importlib, json, pkgutil
from chalice import Blueprint
import chalicelib.handlers
from chalicelib.entries import new_app
found = {}
for info in pkgutil.iter_modules(chalicelib.handlers.__path__):
    blueprint = getattr(importlib.import_module(f"chalicelib.handlers.{info.name}"), "bp", None)
    if isinstance(blueprint, Blueprint):
        app = new_app()
        app.register_blueprint(blueprint)
        found[info.name] = {"routes": routes(app), "sources": [source.name for source in app.event_sources]}
print(json.dumps(found))
""")
    assert {"home", "callbacks", "callback_queue", "directory"} <= set(alone)
    registered_routes, registered_sources = app_py_routes(), {source.name for source in app.event_sources}
    unregistered = [name for name, its in alone.items()
                    if not {tuple(route) for route in its["routes"]} <= registered_routes
                    or not set(its["sources"]) <= registered_sources]
    assert unregistered == []


def test_each_route_is_served_by_exactly_the_function_whose_entry_registers_it():
    everything = app_py_routes()
    served_elsewhere: set[tuple[str, ...]] = set()
    for function in API_FUNCTIONS:
        assert function != CATCH_ALL and API_FUNCTIONS[function]
        routes = {tuple(route) for route in in_fresh_interpreter(f"""
import json
from chalicelib.entries import entry_app
print(json.dumps(routes(entry_app({function!r}))))
""")}
        assert routes, f"{function} serves no route"
        assert routes <= everything, f"{function} serves routes app.py does not register"
        assert {function_of(module) for _, _, module, _ in routes} == {function}
        assert not routes & served_elsewhere, f"{function} shares routes with another function"
        served_elsewhere |= routes
    assert {function_of(module) for _, _, module, _ in everything - served_elsewhere} == {CATCH_ALL}


@pytest.mark.parametrize("function", sorted(API_FUNCTIONS))
def test_each_function_has_an_entry_module_that_imports_only_its_family(function):
    """The entry is what Lambda loads (`chalicelib.entries.<function>.app`): imported alone it registers its family's
    routes and leaves the other handler modules (and app.py) unimported — which is its point."""
    found = in_fresh_interpreter(f"""
import json, sys
import chalicelib.entries.{function} as entry
print(json.dumps({{"routes": routes(entry.app),
                  "imported": sorted(m for m in sys.modules if m.startswith("chalicelib.handlers.") or m == "app")}}))
""")
    family = {f"chalicelib.handlers.{name}" for name in API_FUNCTIONS[function]}
    assert {module for _, _, module, _ in found["routes"]} == family
    assert set(found["imported"]) - family - SHARED - HELPERS == set()
