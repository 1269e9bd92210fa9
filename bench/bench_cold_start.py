"""Cold start: a fresh interpreter importing `app`, against a bare Chalice app that imports boto3.

Both run in new processes, alternating, so machine noise hits both alike; the figure that matters is the ratio of
medians (target ≤ 1.3: heavy imports and clients stay lazy).

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
OURS = "import app"
BASELINE = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='bare')"


def time_import(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "ap-southeast-1", "YQ_STAGE": "dev"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    time_import(OURS), time_import(BASELINE)  # warm the file cache for both
    ours, baseline = [], []
    for run in range(1, args.runs + 1):
        ours.append(time_import(OURS))
        baseline.append(time_import(BASELINE))
        print(f"  run {run}/{args.runs}: app {ours[-1] * 1000:.0f} ms, bare chalice+boto3 {baseline[-1] * 1000:.0f} ms", flush=True)
    ratio = statistics.median(ours) / statistics.median(baseline)
    print(f"cold import median: app {statistics.median(ours) * 1000:.0f} ms, "
          f"bare chalice+boto3 {statistics.median(baseline) * 1000:.0f} ms")
    print(f"ratio app/baseline = {ratio:.2f} (target ≤ {TARGET}): {'met' if ratio <= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
