"""The `api_public` function's entry (see chalicelib.entries)."""
from chalicelib.entries import entry_app

app = entry_app("api_public")
