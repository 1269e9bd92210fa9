"""The harness, the process entry point, scenario loading and the large-scenario generator."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from dev.wecom_sim.generate import generate
from dev.wecom_sim.harness import start_simulator
from tests.simulator.support import CONTACTS_SECRET, CORPID, DEMO_PATH

ROOT = Path(__file__).resolve().parents[2]


def test_generator_is_deterministic_and_sized():
    a = generate(members=50, customers=300, follow_users=10, chains=2, corps_per_chain=20, seed=7)
    assert a == generate(members=50, customers=300, follow_users=10, chains=2, corps_per_chain=20, seed=7)
    assert a != generate(members=50, customers=300, follow_users=10, chains=2, corps_per_chain=20, seed=8)
    corp = a["corps"][0]
    assert len(corp["members"]) == 50 and len(corp["customers"]) == 300
    followers = {f["userid"] for c in corp["customers"] for f in c["follow_users"]}
    assert followers <= {m["userid"] for m in corp["members"] if m.get("follow_user")}
    assert len({m["userid"] for m in corp["members"] if m.get("follow_user")}) == 10
    assert [len(c["corps"]) for c in corp["chains"]] == [20, 20]
    unionids = {c.get("unionid") for c in corp["customers"]}
    assert any(m.get("unionid") in unionids for m in corp["members"])


def test_generated_scenario_serves_and_pages(tmp_path):
    scenario = generate(members=120, customers=900, follow_users=15, chains=1, corps_per_chain=30, seed=3)
    with start_simulator(scenario) as sim:
        http = requests.Session()
        token = http.get(f"{sim.base_url}/cgi-bin/gettoken",
                         params={"corpid": "wwbench0001", "corpsecret": "bench-externalcontact-secret"}).json()
        follow = http.get(f"{sim.base_url}/cgi-bin/externalcontact/get_follow_user_list",
                          params={"access_token": token["access_token"]}).json()["follow_user"]
        seen, cursor = set(), ""
        while True:
            answer = http.post(f"{sim.base_url}/cgi-bin/externalcontact/batch/get_by_user",
                               params={"access_token": token["access_token"]},
                               json={"userid_list": follow, "cursor": cursor, "limit": 100}).json()
            seen |= {(i["external_contact"]["external_userid"], i["follow_info"]["userid"])
                     for i in answer["external_contact_list"]}
            cursor = answer["next_cursor"]
            if not cursor:
                break
    expected = {(c["external_userid"], f["userid"]) for c in scenario["corps"][0]["customers"]
                for f in c["follow_users"]}
    assert seen == expected


def test_generate_cli_writes_a_file(tmp_path):
    out = tmp_path / "large.json"
    subprocess.run([sys.executable, "-m", "dev.wecom_sim.generate", "--members", "20", "--customers", "40",
                    "--follow-users", "5", "--chains", "1", "--corps-per-chain", "4", "--out", str(out)],
                   cwd=ROOT, check=True, timeout=60)
    assert len(json.loads(out.read_text(encoding="utf-8"))["corps"][0]["customers"]) == 40


def test_process_mode_serves_and_logs_json_lines():
    proc = subprocess.Popen([sys.executable, "-m", "dev.wecom_sim", "--scenario", str(DEMO_PATH), "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base_url = json.loads(proc.stdout.readline())["base_url"]
        answer = requests.get(f"{base_url}/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": CONTACTS_SECRET},
                              timeout=10).json()
        assert answer["errcode"] == 0
        line = json.loads(proc.stdout.readline())
        assert line["path"] == "/cgi-bin/gettoken" and line["corpid"] == CORPID and line["errcode"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_load_scenario_replaces_the_world(sim, wecom):
    sim.control.load_scenario({"corps": [{"corpid": "wwtiny", "secrets": [{"kind": "contacts", "secret": "s"}],
                                          "members": [{"userid": "solo", "name": "独"}]}]})
    try:
        token = wecom.token("s", corpid="wwtiny")
        assert wecom.get("user/get", access_token=token, userid="solo")["name"] == "独"
        assert wecom.get("gettoken", corpid=CORPID, corpsecret=CONTACTS_SECRET)["errcode"] == 40013
    finally:
        sim.control.load_scenario(json.loads(DEMO_PATH.read_text(encoding="utf-8")))
