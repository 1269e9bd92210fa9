"""Cold start: a fresh interpreter importing `app` and serving its first route, against a bare Chalice app that
imports boto3.

Handlers bind their domain modules lazily (`chalicelib.core.lazy`), so importing `app` alone says little: a cold
invocation also loads the modules of the route it serves. Three figures, each in new processes, alternating with the
baseline so machine noise hits all alike:
- `import app`: what every function pays before its handler runs;
- `+ home route`: import plus the modules behind `GET /api/external/home` (the page external contacts open, the
  heaviest everyday route: sessions, accounts, the home feed, PynamoDB and botocore) — the ratio that matters,
  target ≤ 1.3;
- `+ every route`: import plus every lazily bound module of every handler, the worst case of one instance serving
  everything (reported, no target).

    .venv/bin/python bench/bench_cold_start.py [--runs 9]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3
BASELINE = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='bare')"
CASES = {
    "import app": "import app",
    "+ home route": "import app\nfrom chalicelib.handlers import home\nhome.feed.home_caller, home.sessions.CONTACT",
    "+ every route": (
        "import app, sys, types\n"
        "from chalicelib.core.lazy import load\n"
        "for name in [n for n in sys.modules if n.startswith('chalicelib.handlers.')]:\n"
        "    for value in list(vars(sys.modules[name]).values()):\n"
        "        if isinstance(value, types.ModuleType) and value.__name__.startswith('chalicelib.'):\n"
        "            load(value)\n"
    ),
}


def time_run(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "ap-southeast-1", "YQ_STAGE": "dev"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for code in [*CASES.values(), BASELINE]:
        time_run(code)  # warm the file cache
    times: dict[str, list[float]] = {name: [] for name in [*CASES, "baseline"]}
    for run in range(1, args.runs + 1):
        for name, code in [*CASES.items(), ("baseline", BASELINE)]:
            times[name].append(time_run(code))
        print(f"  run {run}/{args.runs}: " + ", ".join(f"{name} {values[-1] * 1000:.0f} ms"
                                                      for name, values in times.items()), flush=True)
    baseline = statistics.median(times["baseline"])
    print(f"bare chalice+boto3 median {baseline * 1000:.0f} ms")
    for name in CASES:
        median = statistics.median(times[name])
        target = f" (target ≤ {TARGET}): {'met' if median / baseline <= TARGET else 'NOT met'}" \
            if name == "+ home route" else ""
        print(f"{name:14} median {median * 1000:4.0f} ms, ratio {median / baseline:.2f}{target}")


if __name__ == "__main__":
    main()
