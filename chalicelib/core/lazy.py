"""Modules loaded on first use, for the handlers' imports of the domain.

Every Lambda function of the app imports the whole app (Chalice registers every route and consumer at import), so a
cold start would pay for the domain of every route even when it serves one. Handlers therefore bind their domain
modules through `lazy_module`: a stand-in whose attribute reads go to the real module, imported by the first one.

The stand-in forwards every read instead of becoming the module (as `importlib.util.LazyLoader` does) because the
import then runs through `importlib.import_module`, whose per-module locks make two threads' first reads safe —
`chalice local` serves requests on threads, and on Python 3.11 LazyLoader can hand a second thread a half-run module.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy_module(name: str) -> ModuleType:
    return sys.modules.get(name) or _LazyModule(name)


def load(module: ModuleType) -> ModuleType:
    """The real module behind a stand-in (importing it now), or the module itself."""
    return importlib.import_module(module.__name__)
