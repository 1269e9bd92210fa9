"""The `api_callbacks` function's entry (see chalicelib.entries)."""
from chalicelib.entries import entry_app

app = entry_app("api_callbacks")
