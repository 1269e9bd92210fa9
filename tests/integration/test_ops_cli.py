"""The ops CLI as an operator runs it: a real process against the emulator."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.integration.conftest import DEMO_SECRETS

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def run_ops(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60)


def test_create_then_show_a_self_built_tenant_keeps_secrets_out_of_output(tmp_path):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps(DEMO_SECRETS))
    created = run_ops("tenants", "create", "--name", "运维团队", "--corp-id", "wwopscli01", "--agent-id", "1000002",
                      "--secrets-file", str(secrets_file), "--tenant-key", "tnopscli01", "--auto-sync")
    assert created.returncode == 0, created.stderr
    assert "created tenant tnopscli01" in created.stderr
    for value in DEMO_SECRETS.values():
        assert value not in created.stdout + created.stderr
    shown = json.loads(run_ops("tenants", "show", "tnopscli01").stdout)
    assert shown["corpId"] == "wwopscli01"
    assert shown["settings"]["autoSyncCustomers"] is True
    assert shown["settings"]["defaultSecurityLevel"] == 0
    assert shown["secretId"] == "yunqiao/local/tenants/tnopscli01"

    from chalicelib.store import secrets

    assert secrets.get("yunqiao/local/tenants/tnopscli01") == DEMO_SECRETS


def test_creating_the_same_tenant_twice_is_refused(tmp_path):
    args = ("tenants", "create", "--name", "甲", "--corp-id", "wwopscli02", "--agent-id", "1", "--secrets-file", "-",
            "--tenant-key", "tnopscli02")
    assert run_ops(*args, stdin=json.dumps(DEMO_SECRETS)).returncode == 0
    again = run_ops(*args, stdin=json.dumps(DEMO_SECRETS))
    assert again.returncode == 2
    assert "tenant_exists" in again.stderr


def test_bad_input_is_refused_with_a_clear_reason_and_nothing_stored():
    missing = run_ops("tenants", "create", "--name", "乙", "--corp-id", "wwopscli03", "--agent-id", "1",
                      "--secrets-file", "-", "--tenant-key", "tnopscli03", stdin=json.dumps({"app_secret": "x"}))
    assert missing.returncode == 2
    assert "missing secrets: contacts_secret, customer_secret, callback_token, callback_aes_key" in missing.stderr
    not_json = run_ops("tenants", "create", "--name", "乙", "--corp-id", "wwopscli03", "--agent-id", "1",
                       "--secrets-file", "-", "--tenant-key", "tnopscli03", stdin="{nope")
    assert not_json.returncode == 2 and "invalid_secrets_file" in not_json.stderr
    assert "tenant_not_found" in run_ops("tenants", "show", "tnopscli03").stderr


def test_disable_and_list():
    run_ops("tenants", "create", "--name", "丙", "--corp-id", "wwopscli04", "--agent-id", "1", "--secrets-file", "-",
            "--tenant-key", "tnopscli04", stdin=json.dumps(DEMO_SECRETS))
    disabled = run_ops("tenants", "disable", "tnopscli04")
    assert disabled.returncode == 0 and json.loads(disabled.stdout)["enabled"] is False
    listed = {row["tenantKey"]: row for row in json.loads(run_ops("tenants", "list").stdout)}
    assert listed["tnopscli04"]["enabled"] is False


def run_bare(*args: str, tmp_path) -> subprocess.CompletedProcess:
    """The CLI in an operator's shell: no local-stack variables, no AWS credentials anywhere."""
    import os

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_stage_without_credentials_is_a_clear_error_not_a_traceback(tmp_path):
    answer = run_bare("--stage", "dev", "--region", "ap-southeast-1", "tenants", "list", tmp_path=tmp_path)
    assert answer.returncode == 2
    assert "error: no AWS credentials for stage dev" in answer.stderr
    assert "Traceback" not in answer.stderr and answer.stdout == ""


def test_the_deployment_is_never_guessed(tmp_path):
    unnamed = run_bare("tenants", "list", tmp_path=tmp_path)
    assert unnamed.returncode == 2 and "give --stage dev|prod (with --region) for AWS, or --local" in unnamed.stderr
    no_region = run_bare("--stage", "prod", "tenants", "list", tmp_path=tmp_path)
    assert no_region.returncode == 2 and "which region is prod in?" in no_region.stderr
    both = run_bare("--stage", "prod", "--local", "tenants", "list", tmp_path=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    # In the local stack's shell (this test session's), AWS must be asked for by name and the emulator unset first.
    into_emulator = run_ops("--stage", "dev", "--region", "ap-southeast-1", "tenants", "list")
    assert into_emulator.returncode == 2 and "AWS_ENDPOINT_URL is set" in into_emulator.stderr


def test_a_verification_file_is_put_from_the_downloaded_file_and_served(tmp_path, client):
    downloaded = tmp_path / "WW_verify_OpsCli42.txt"
    downloaded.write_text("OpsCli42Content\n")
    put = run_ops("--local", "verification-files", "put", str(downloaded))
    assert put.returncode == 0, put.stderr
    assert client.http.get("/WW_verify_OpsCli42.txt").body == b"OpsCli42Content"
    wrong = tmp_path / "index.html"
    wrong.write_text("<html>")
    refused = run_ops("--local", "verification-files", "put", str(wrong))
    assert refused.returncode == 2 and "invalid_verification_file" in refused.stderr


def test_the_official_accounts_callback_keys_are_stored_after_its_app_id_and_never_printed():
    run_ops("tenants", "create", "--name", "丁", "--corp-id", "wwopscli05", "--agent-id", "1", "--secrets-file", "-",
            "--tenant-key", "tnopscli05", stdin=json.dumps(DEMO_SECRETS))
    keys = {"token": "OpsCliOaToken", "encoding_aes_key": "OpsCliOaAesKey0123456789abcdefghijklmnopqrs"}
    early = run_ops("tenants", "official-account-callback", "tnopscli05", "--secrets-file", "-", stdin=json.dumps(keys))
    assert early.returncode == 2 and "wechat_not_configured" in early.stderr
    run_ops("tenants", "settings", "tnopscli05", "--set", 'officialAccount={"appId": "wxopscli0000005"}')
    bad = run_ops("tenants", "official-account-callback", "tnopscli05", "--secrets-file", "-",
                  stdin=json.dumps({**keys, "encoding_aes_key": "short"}))
    assert bad.returncode == 2 and "invalid_callback_aes_key" in bad.stderr
    stored = run_ops("tenants", "official-account-callback", "tnopscli05", "--secrets-file", "-", stdin=json.dumps(keys))
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout) == {"tenantKey": "tnopscli05", "callbackUrl": "/wechat/callback/tnopscli05",
                                         "callbackKeysStored": True}
    assert all(value not in stored.stdout + stored.stderr for value in keys.values())

    from chalicelib.store import secrets

    kept = secrets.get("yunqiao/local/tenants/tnopscli05")
    assert (kept["wechat_oa_token"], kept["wechat_oa_aes_key"]) == (keys["token"], keys["encoding_aes_key"])
    assert kept["callback_token"] == DEMO_SECRETS["callback_token"]  # the WeCom keys stay as they were
