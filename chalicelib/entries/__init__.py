"""The API split across Lambda functions by route family, so that a cold start imports only its family's code.

A cold function's first request pays for importing every module its app registers. With every route in one function,
the external contact's home and WeCom's callbacks — the requests people and WeCom wait on — paid for the whole
admin and workspace API too. So the routes the public hits are served by small functions of their own, each with an
entry module here whose app registers only its family's blueprints (`API_FUNCTIONS`), and everything else stays in
`api_handler`, whose entry is `app.py`: the whole app, which is also what `make run` serves and what the template is
generated from. A new blueprint registered in app.py is therefore served by `api_handler` with nothing else to do; to
give a family a function of its own, add it to `API_FUNCTIONS` and add its entry module (three lines, like
`api_public.py`). API Gateway sends each route to the function whose entry registers it (`function_of`, used by
`infra.resources`); tests/unit/test_entries.py checks every blueprint is registered and every route has one function.
"""
from __future__ import annotations

import importlib

from chalice import Chalice

from chalicelib.handlers import api, invocation

APP_NAME = "yunqiao"
CATCH_ALL = "api_handler"
# function → the modules of chalicelib.handlers whose blueprints it serves (each also registered in app.py)
API_FUNCTIONS: dict[str, tuple[str, ...]] = {
    # the pages, the external contact's home and sign-in, and the domain verification files
    "api_public": ("web", "home", "external_auth", "verification"),
    # WeCom's callback URLs (the queue consumer of what they accept is `process_callbacks`)
    "api_callbacks": ("callbacks",),
}


def new_app() -> Chalice:
    """A Chalice app with the middleware every entry shares (app.py's and each function's alike)."""
    app = Chalice(app_name=APP_NAME)
    # API Gateway answers binary bodies (the chat cards' pictures) as bytes only when the request's FIRST Accept type
    # is a binary type: add the ones image loaders put first (Chrome: image/avif, Safari: image/webp, others: image/*).
    app.api.binary_types.extend(["image/avif", "image/webp", "image/apng", "image/*"])
    app.register_middleware(invocation.wecom_deadline, "all")
    app.register_middleware(api.json_errors, "http")
    return app


def entry_app(function: str) -> Chalice:
    """The app of one function of `API_FUNCTIONS`: its blueprints alone."""
    app = new_app()
    for name in API_FUNCTIONS[function]:
        app.register_blueprint(importlib.import_module(f"chalicelib.handlers.{name}").bp)
    return app


def function_of(view_module: str) -> str:
    """The function that serves the routes of a handler module (`chalicelib.handlers.home` → `api_public`)."""
    name = view_module.rpartition(".")[2]
    return next((function for function, names in API_FUNCTIONS.items() if name in names), CATCH_ALL)
