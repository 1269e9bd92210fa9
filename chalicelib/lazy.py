"""Modules loaded on first use, for the handlers' imports of the domain.

Every Lambda function of the app imports the whole app (Chalice registers every route and consumer at import), so a
cold start would pay for the domain of every route even when it serves one. Handlers therefore bind their domain
modules through `lazy_module`: the module object exists at once, its code runs the first time an attribute is read.
This is the standard library's `importlib.util.LazyLoader`; a module imported already is returned as it is.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
