"""`make run`: the whole service on this machine, on loopback.

Starts the AWS emulator with the local stage's tables and queues, the WeCom simulator with the demo corp, the app
under `chalice local`, and the event pump; seeds the demo tenant; prints the URLs to open. Ctrl-C stops everything
it started. Emulator and simulator logs go to .local/; the app's and the pump's logs to this terminal.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "dev" / "scenarios" / "demo.json"
EMULATOR_PORT = int(os.environ.get("YQ_EMULATOR_PORT", "4566"))
SIMULATOR_PORT = int(os.environ.get("YQ_SIMULATOR_PORT", "8701"))
APP_PORT = int(os.environ.get("YQ_APP_PORT", "8000"))


SUITE_TICKET_EVERY = 600  # WeCom pushes a fresh suite_ticket every 10 minutes; each is valid for 30


def push_suite_ticket(control, base: str) -> None:
    """Play WeCom's ticket push to the suite's callback URL, so suite tokens can be made locally."""
    from chalicelib.core import config

    suite_id = config.suite_id()
    if suite_id:
        answer = control.push("suite_ticket", f"{base}/wecom/suite/{suite_id}/callback", suite_id=suite_id)
        step(f"    suite_ticket pushed to the suite callback: HTTP {answer['status']}")


def step(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def ensure_free(port: int, what: str) -> None:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"[stack] port {port} ({what}) is in use: stop what holds it, or set its YQ_*_PORT variable")


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from dev.emulator import LOCAL_CREDENTIALS

    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.update(
        {
            "YQ_STAGE": "local",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{EMULATOR_PORT}",
            "YQ_WECOM_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}",
            "YQ_WECHAT_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}",
            "YQ_WECOM_LOGIN_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}",
            "YQ_PUBLIC_BASE_URL": f"http://127.0.0.1:{APP_PORT}",
            "YQ_SUITE_ID": "wwsuitedemo0001",
        }
    )
    from dev.emulator import create_stage_resources, start_emulator, stop_process, wait_for_http
    from dev.seed import DEMO_TENANT_KEY, LOCAL_ADMIN_TOKEN, seed
    from dev.seed_accounts import ACCOUNT_NAME as DEMO_ACCOUNT
    from dev.seed_accounts import INITIAL_PASSWORD as DEMO_INITIAL_PASSWORD
    from dev.toolbar_chat import play as play_toolbar_chat
    from dev.wecom_sim.harness import ControlClient

    for port, what in ((EMULATOR_PORT, "emulator"), (SIMULATOR_PORT, "WeCom simulator"), (APP_PORT, "app")):
        ensure_free(port, what)
    logs = ROOT / ".local"
    logs.mkdir(exist_ok=True)
    children: list[subprocess.Popen] = []

    def stop(*_args, code: int = 0) -> None:
        step("stopping ...")
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            stop_process(child)
        step("stopped")
        sys.exit(code)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        step(f"1/5 AWS emulator (moto server) on 127.0.0.1:{EMULATOR_PORT}, log in .local/emulator.log")
        children.append(start_emulator(EMULATOR_PORT, open(logs / "emulator.log", "ab")))
        create_stage_resources("local", lambda msg: step(f"    created {msg}"))

        step(f"2/5 WeCom simulator on 127.0.0.1:{SIMULATOR_PORT} with {SCENARIO.relative_to(ROOT)}, log in .local/simulator.log")
        simulator = subprocess.Popen(
            [sys.executable, "-m", "dev.wecom_sim", "--scenario", str(SCENARIO), "--port", str(SIMULATOR_PORT)],
            stdout=open(logs / "simulator.log", "ab"), stderr=subprocess.STDOUT,
        )
        children.append(simulator)
        wait_for_http(f"http://127.0.0.1:{SIMULATOR_PORT}/__sim__/clock", process=simulator)

        step("3/5 seeding the demo tenant")
        tenant = seed(SCENARIO)
        step(f"    tenant {tenant.tenant_key} → corp {tenant.corp_id}")

        step(f"4/5 app (chalice local, stage local) on 127.0.0.1:{APP_PORT}")
        app = subprocess.Popen(
            [str(Path(sys.executable).parent / "chalice"), "local", "--stage", "local", "--host", "127.0.0.1",
             "--port", str(APP_PORT), "--no-autoreload"],
        )
        children.append(app)
        wait_for_http(f"http://127.0.0.1:{APP_PORT}/healthz", process=app)

        step("5/5 event pump (SQS consumers and schedules)")
        children.append(subprocess.Popen([sys.executable, "-m", "dev.pump"]))

        base = f"http://127.0.0.1:{APP_PORT}"
        control = ControlClient(f"http://127.0.0.1:{SIMULATOR_PORT}")
        push_suite_ticket(control, base)
        play_toolbar_chat(control, "chen")
        print(
            "\n".join(
                [
                    "",
                    "Yunqiao is running locally. Open:",
                    f"  health            {base}/healthz",
                    f"  demo tenant       {base}/api/tenants/{DEMO_TENANT_KEY}/public",
                    f"  admin API         {base}/api/admin/tenants/{DEMO_TENANT_KEY}/... "
                    f"with header X-Yunqiao-Admin-Token: {LOCAL_ADMIN_TOKEN}",
                    f"  external home     {base}/mobile/wechat/external/home?tenantKey={DEMO_TENANT_KEY}",
                    f"                    sign in as 陈先生: account {DEMO_ACCOUNT}, initial password "
                    f"{DEMO_INITIAL_PASSWORD} (changed at the first sign-in)",
                    f"  member workspace  {base}/directory/contacts?tenantKey={DEMO_TENANT_KEY}",
                    "                    sign in with 企业微信扫码登录: the simulator's QR page lets you pick the member",
                    f"  member API        {base}/api/directory/... with the header printed by "
                    "`.venv/bin/python -m dev.sign_in zhangsan` (or lisi, wangwu, ...)",
                    f"  chat toolbar      {base}/directory/toolbar?tenantKey={DEMO_TENANT_KEY}",
                    "                    the simulator plays a chat with 陈先生; another: "
                    "`.venv/bin/python -m dev.toolbar_chat group` (docs/toolbar.md)",
                    f"  WeCom simulator   http://127.0.0.1:{SIMULATOR_PORT}/__sim__/calls",
                    f"  林女士's WeChat    http://127.0.0.1:{SIMULATOR_PORT}/__sim__/oa/messages?touser=oDemoOpenid0002 "
                    "(she follows the official account and never signed in: told of the schedule shared with her)",
                    "Press Ctrl-C to stop everything.",
                    "",
                ]
            ),
            flush=True,
        )
        next_ticket = time.monotonic() + SUITE_TICKET_EVERY
        while True:
            if time.monotonic() >= next_ticket:
                push_suite_ticket(control, base)
                next_ticket = time.monotonic() + SUITE_TICKET_EVERY
            for child in children:
                if child.poll() is not None:
                    step(f"a child process exited ({child.args[:3]}, code {child.returncode})")
                    stop(code=1)
            time.sleep(1)
    except Exception as err:
        step(f"failed: {err}")
        stop(code=1)


if __name__ == "__main__":
    main()
