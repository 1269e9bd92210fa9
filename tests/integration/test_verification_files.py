"""The WeCom and WeChat domain-verification files at the domain's root, served from configuration."""
from __future__ import annotations

import json

import pytest

from chalicelib.store import verification_files


def test_a_configured_file_is_served_as_plain_text_at_the_root(client):
    verification_files.put("WW_verify_AbC123xyz.txt", "AbC123xyzQwErTy")
    verification_files.put("MP_verify_Zz9.txt", "Zz9content")
    reply = client.http.get("/WW_verify_AbC123xyz.txt")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert reply.body == b"AbC123xyzQwErTy"
    assert client.http.get("/MP_verify_Zz9.txt").body == b"Zz9content"
    verification_files.put("WW_verify_AbC123xyz.txt", "replaced")  # a corp re-verifying gets a new file
    assert client.http.get("/WW_verify_AbC123xyz.txt").body == b"replaced"


@pytest.mark.parametrize("path", ["/WW_verify_notconfigured.txt", "/favicon.ico", "/WW_verify_.txt",
                                  "/WW_verify_a.txt.bak", "/ww_verify_abc.txt", "/MP_verify_a%2F..%2Fb.txt"])
def test_anything_else_at_the_root_is_a_json_404(client, path):
    reply = client.http.get(path)
    assert reply.status_code == 404
    assert json.loads(reply.body)["error"]["code"] == "not_found"


def test_the_health_route_still_wins_over_the_root_files(client):
    assert json.loads(client.http.get("/healthz").body)["status"] == "ok"


def test_only_verification_file_names_and_sane_contents_are_stored():
    with pytest.raises(ValueError):
        verification_files.put("index.html", "<script>")
    with pytest.raises(ValueError):
        verification_files.put("WW_verify_abc.txt", "")
    assert verification_files.get("index.html") is None
