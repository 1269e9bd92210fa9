"""Sharing items with external contacts (共享人): what internal callers register and share, send to the chat's
customer, bind to projects, reply to, and how contacts are notified. The contact's side is `chalicelib.home`."""
