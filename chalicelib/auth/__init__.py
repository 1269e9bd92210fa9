"""Signing in: sessions, members and contacts, and the OAuth round trips that lead to them."""
