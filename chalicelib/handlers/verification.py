"""`GET /{fileName}`: the domain-verification files WeCom and WeChat fetch from the domain's root.

    GET /WW_verify_<code>.txt   WeCom's trusted-domain check      → 200 text/plain, the file's content
    GET /MP_verify_<code>.txt   WeChat official account's check   → 200 text/plain
    anything else at the root, or a file not configured          → 404 not_found

The files are configuration (`chalicelib.store.verification_files`), so onboarding a corp needs no code change.
"""
from __future__ import annotations

from chalice import Response

from chalicelib.core.errors import NotFound
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.store import verification_files

bp = ApiBlueprint(__name__)


@bp.route("/{fileName}", methods=["GET"])
def verification_file(fileName: str) -> Response:
    content = verification_files.get(fileName)
    if content is None:
        raise NotFound(f"no such file: {fileName[:80]}", code="not_found")
    return Response(body=content, status_code=200,
                    headers={"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache"})
