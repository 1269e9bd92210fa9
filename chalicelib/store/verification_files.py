"""The domain-verification files WeCom and WeChat fetch from the root of a trusted domain, in SSM Parameter Store.

WeCom's console (trusted domain, 可信域名) and WeChat's official account (JS/网页授权域名) each hand a tenant's admin a
small file — `WW_verify_<code>.txt`, `MP_verify_<code>.txt` — that must be served at `https://<domain>/<name>`.
Each is one parameter under `config.verification_parameter_path()`, named after the file, its value the content:
the operator adds one with `python -m ops --stage <stage> verification-files put <file>`, no code change or deploy.
"""
from __future__ import annotations

import re

from chalicelib.core import config
from chalicelib.core.aws import client

FILE_NAME = re.compile(r"^(WW|MP)_verify_[A-Za-z0-9]{1,64}\.txt$")
MAX_CONTENT = 4096  # a standard parameter's limit; the real files hold a 16-character code


def is_file_name(name: str) -> bool:
    return bool(FILE_NAME.match(name))


def get(name: str) -> str | None:
    """The file's content, or None when no such file is configured (or the name is not a verification file's)."""
    if not is_file_name(name):
        return None
    ssm = client("ssm")
    try:
        return ssm.get_parameter(Name=config.verification_parameter_path() + name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def put(name: str, content: str) -> None:
    """Add or replace a file (the operator's command; the functions may only read)."""
    if not is_file_name(name):
        raise ValueError(f"{name!r} is not a WW_verify_*.txt or MP_verify_*.txt file name")
    if not content or len(content.encode("utf-8")) > MAX_CONTENT:
        raise ValueError(f"a verification file holds 1 to {MAX_CONTENT} bytes")
    client("ssm").put_parameter(Name=config.verification_parameter_path() + name, Value=content, Type="String",
                                Overwrite=True)
