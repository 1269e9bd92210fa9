"""Run the simulator as a process: `python -m dev.wecom_sim --scenario dev/scenarios/demo.json --port 8701`.

Each answered WeCom call is logged as one JSON line on stdout (for the local stack's log view).
"""
from __future__ import annotations

import argparse
import json
import sys

from .harness import load_scenario_file
from .server import Simulator, make_server


def _log_line(entry: dict) -> None:
    line = {k: entry[k] for k in ("seq", "time", "method", "path", "corpid", "errcode", "http_status", "fault")}
    print(json.dumps(line, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.wecom_sim", description="Run the WeCom simulator.")
    parser.add_argument("--scenario", required=True, help="scenario JSON file, e.g. dev/scenarios/demo.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--quiet", action="store_true", help="do not log calls")
    args = parser.parse_args(argv)
    sim = Simulator(load_scenario_file(args.scenario), on_call=None if args.quiet else _log_line)
    server = make_server(sim, args.host, args.port)
    host, port = server.server_address[:2]
    print(json.dumps({"event": "listening", "base_url": f"http://{host}:{port}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
