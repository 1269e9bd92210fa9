"""Sign a demo member in to the running local stack and print the bearer token (what WeCom OAuth would do).

    python -m dev.sign_in zhangsan            # prints: Authorization: Bearer yq1.tndemo0001.…
    curl -H "$(python -m dev.sign_in lisi)" http://127.0.0.1:8000/api/directory/contacts

The round trip is made as a browser makes it: `GET /api/auth/wecom/authorize-url` begins it (the state and its
cookie), the simulator mints an OAuth code for the member (as WeCom would put it on the redirect URL) and the app's
own `POST /api/auth/wecom/session` exchanges it with the state, so the session is made exactly as in production.
"""
from __future__ import annotations

import argparse
import os
import sys

import requests

from dev.seed import DEMO_TENANT_KEY
from dev.wecom_sim.harness import ControlClient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("user_id", help="a member of the demo corp, e.g. zhangsan, lisi, wangwu")
    parser.add_argument("--tenant", default=DEMO_TENANT_KEY)
    parser.add_argument("--corp", default="wwdemo0001")
    args = parser.parse_args(argv)
    simulator = f"http://127.0.0.1:{os.environ.get('YQ_SIMULATOR_PORT', '8701')}"
    app = f"http://127.0.0.1:{os.environ.get('YQ_APP_PORT', '8000')}"
    code = ControlClient(simulator).mint_oauth_code(corpid=args.corp, userid=args.user_id)
    browser = requests.Session()  # keeps the state cookie authorize-url sets, as a browser does
    begun = browser.get(f"{app}/api/auth/wecom/authorize-url",
                        params={"tenantKey": args.tenant, "redirectUri": f"{app}/"}, timeout=30)
    if begun.status_code != 200:
        print(f"sign-in refused: HTTP {begun.status_code} {begun.text}", file=sys.stderr)
        return 1
    reply = browser.post(f"{app}/api/auth/wecom/session",
                         json={"tenantKey": args.tenant, "code": code, "state": begun.json()["state"]}, timeout=30)
    if reply.status_code != 201:
        print(f"sign-in refused: HTTP {reply.status_code} {reply.text}", file=sys.stderr)
        return 1
    print(f"Authorization: Bearer {reply.json()['token']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
