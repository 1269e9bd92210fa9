"""External contacts' login accounts: opening, activation, password sign-in, throttling, the apps open to them.

`open_account` is what the approval workflow (`chalicelib.accounts.applications`) calls on approval; the rest is used by
`chalicelib.handlers.accounts`. See docs/external-login.md.
"""
from chalicelib.accounts.service import ContactCaller, contact_caller, open_account

__all__ = ["ContactCaller", "contact_caller", "open_account"]
