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
