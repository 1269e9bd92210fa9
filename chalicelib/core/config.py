"""Settings read from the environment.

Every deployed difference between the local stack and AWS is an environment variable set per stage in
`.chalice/config.json`, so the same code runs against the emulator, the WeCom simulator and the real services.
"""
from __future__ import annotations

import os

APP_NAME = "yunqiao"


def stage() -> str:
    """The Chalice stage: `local`, `dev` or `prod`."""
    return os.environ.get("YQ_STAGE", "local")


def resource_name(logical: str, stage_name: str | None = None) -> str:
    """Physical name of a table or queue; one naming rule shared by the app, infra/ and the local stack."""
    return f"{APP_NAME}-{stage_name or stage()}-{logical}"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-southeast-1"


def aws_endpoint() -> str | None:
    """The emulator's URL in the local stack and tests; None on AWS (boto3 then uses the real endpoints)."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def wecom_base_url() -> str:
    """WeCom's API root, or the simulator's in the local stack and tests."""
    return os.environ.get("YQ_WECOM_BASE_URL", "https://qyapi.weixin.qq.com").rstrip("/")


def wechat_base_url() -> str:
    """The WeChat official-account API root (OAuth code exchange), or the simulator's."""
    return os.environ.get("YQ_WECHAT_BASE_URL", "https://api.weixin.qq.com").rstrip("/")


def wecom_login_base_url() -> str | None:
    """Where browsers go to sign in: None for WeCom's and WeChat's own pages (open.weixin.qq.com inside the client —
    WeCom corp OAuth and the official account's —, login.work.weixin.qq.com for the QR login), the simulator's root in
    the local stack and tests (it serves them all)."""
    return os.environ.get("YQ_WECOM_LOGIN_BASE_URL", "").rstrip("/") or None


def wecom_jssdk_stand_in_url() -> str | None:
    """The WeCom simulator's stand-in for the client's `ww` (dev/wecom_sim/jssdk.py), which the chat toolbar page loads
    after the vendored JS-SDK on the local stage only, where the simulator serves the sign-in pages too."""
    login = wecom_login_base_url()
    return f"{login}/jssdk/ww.js" if stage() == "local" and login else None


def queue_url_variable(logical_queue: str) -> str:
    """The environment variable the deployment sets to a queue's URL (`infra.resources`, from the queue itself)."""
    return "YQ_QUEUE_URL_" + logical_queue.upper().replace("-", "_")


def queue_url(logical_queue: str) -> str | None:
    """The queue's URL when the deployment gives it: the first send of a process then needs no GetQueueUrl first."""
    return os.environ.get(queue_url_variable(logical_queue)) or None


def public_base_url() -> str:
    """Where the app is reachable from a phone; used for the 与我协作 link when a tenant sets none."""
    return os.environ.get("YQ_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def is_placeholder_url(url: str | None) -> bool:
    """Whether a base URL is not a real deployment's: empty, without a host, or under a reserved example domain
    (`yunqiao.example.com`, `example.cn`, `*.invalid`, RFC 2606). A link written onto a member's WeCom profile with
    such a base would lead external contacts nowhere."""
    from urllib.parse import urlsplit

    host = (urlsplit(url or "").hostname or "").rstrip(".").lower()
    labels = host.split(".") if host else []
    return not labels or "example" in labels or labels[-1] == "invalid"


def verification_parameter_path(stage_name: str | None = None) -> str:
    """The SSM Parameter Store folder holding the domain-verification files WeCom and WeChat ask for
    (`WW_verify_*.txt`, `MP_verify_*.txt`), one parameter per file name, its value the file's content."""
    return f"/{APP_NAME}/{stage_name or stage()}/verification-files/"


def callback_max_age_seconds() -> int:
    """How old a callback's timestamp may be before it is refused as a replay."""
    return int(os.environ.get("YQ_CALLBACK_MAX_AGE", "300"))


def suite_id() -> str | None:
    """The third-party contacts suite this deployment serves, if any."""
    return os.environ.get("YQ_SUITE_ID") or None


def suite_secret_id() -> str:
    """Secrets Manager id of the suite's secret, token and EncodingAESKey."""
    return os.environ.get("YQ_SUITE_SECRET_ID", f"{APP_NAME}/{stage()}/suite")


def _int_setting(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def wecom_max_attempts(default: int) -> int:
    """Attempts per WeCom call before a transient failure becomes an error."""
    return _int_setting("YQ_WECOM_MAX_ATTEMPTS", default)


def wecom_rate_per_minute(default: int) -> int:
    """Client-side WeCom calls per corp and API per minute, kept below WeCom's 10,000 so its block never trips."""
    return _int_setting("YQ_WECOM_RATE_PER_MINUTE", default)


def wecom_rate_block(default: int) -> int:
    """Permits an instance takes from the shared bucket at once: one DynamoDB write per block, not per call."""
    return _int_setting("YQ_WECOM_RATE_BLOCK", default)


SESSION_DEFAULTS = {"member": 8 * 3600, "contact": 12 * 3600}


def session_seconds(kind: str) -> int:
    """How long a session lasts: a working day for members, a little longer for external contacts on their phones."""
    return _int_setting(f"YQ_{kind.upper()}_SESSION_SECONDS", SESSION_DEFAULTS[kind])


SCRYPT_DEFAULT_N = 2**15
SCRYPT_DEPLOYED_MIN_N = 2**15


def scrypt_n() -> int:
    """scrypt's cost N for new password hashes (a power of two; memory per hash is 128·N·8 bytes).

    `YQ_SCRYPT_N` may lower it only in the local stage, so the test suite stays fast; deployed stages never go
    below 2^15 whatever the environment says, and may raise it.
    """
    n = _int_setting("YQ_SCRYPT_N", SCRYPT_DEFAULT_N)
    if n < 2 or n & (n - 1):
        raise ValueError(f"YQ_SCRYPT_N must be a power of two, not {n}")
    return n if stage() == "local" else max(n, SCRYPT_DEPLOYED_MIN_N)


def activation_seconds() -> int:
    """How long an external account's activation link stays usable (default 72 hours)."""
    return _int_setting("YQ_ACTIVATION_SECONDS", 72 * 3600)


def invitation_secret_id() -> str:
    """Secrets Manager id of the key that signs invitation links and search candidates (created on first use)."""
    return os.environ.get("YQ_INVITATION_SECRET_ID", f"{APP_NAME}/{stage()}/invitation-signing")


def invitation_days() -> int:
    """How long a WeChat-friend invitation link stays usable by default (7 days)."""
    return _int_setting("YQ_INVITATION_DAYS", 7)


def org_search_per_minute() -> int:
    """Searches for a member of another organisation one member may make per minute."""
    return _int_setting("YQ_ORG_SEARCH_PER_MINUTE", 10)
