"""External contacts' login accounts: opening, activation, password sign-in, throttling, the apps open to them.

`open_account` is what the approval workflow (`chalicelib.accounts.applications`) calls on approval; the rest is used by
`chalicelib.handlers.accounts`. See docs/external-login.md.
"""
from typing import Any

__all__ = ["ContactCaller", "contact_caller", "open_account"]


def __getattr__(name: str) -> Any:
    """Re-export from `service` on first use, so importing a submodule (the handlers do, lazily) stays cheap."""
    if name in __all__:
        from chalicelib.accounts import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
