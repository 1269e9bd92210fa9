"""The cold-start benchmark's smoke mode: it builds the package, runs each case once in fresh interpreters against its
own emulator, and prints medians and ratios that are consistent with each other."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^(bare|yunqiao \S+), ([a-z +]+?)\s+(\d+(?:\s+\d+)+)$")
RATIO = re.compile(r"^ratio \((before|after, home|after, callback)\)\s+([\d. ]+?)\s+target \+(home|callback) <= 1\.3: "
                   r"(met|NOT met)$")
EXPECTED = {"before": ("yunqiao app.app", "home + callback"), "after, home": ("yunqiao api_public", "home"),
            "after, callback": ("yunqiao api_callbacks", "callback")}


def test_the_smoke_run_prints_consistent_medians_and_ratios():
    answer = subprocess.run([sys.executable, "bench/bench_cold_start.py", "--smoke"], cwd=ROOT, capture_output=True,
                            text=True, timeout=1200)
    assert answer.returncode == 0, answer.stderr[-3000:]
    lines = answer.stdout.splitlines()
    assert re.match(r"^cold start as Lambda runs it: Python 3\.\d+\.\d+, code from deployment\.zip \((with|no) \.pyc\), "
                    r"medians of 1 runs", lines[0])
    rows = {(m[1], m[2]): [int(v) for v in m[3].split()] for m in map(ROW.match, lines) if m}
    ratios = {m[1]: ([float(v) for v in m[2].split()], m[3], m[4]) for m in map(RATIO.match, lines) if m}
    assert set(ratios) == set(EXPECTED)
    for label, (values, total, verdict) in ratios.items():
        app_name, requests = EXPECTED[label]
        app, bare = rows[(app_name, requests)], rows[("bare", requests)]
        assert total == requests.split(" + ")[-1]
        for figures in (app, bare):
            *in_process, process, cpu = figures
            # cumulative in-process times (import, then after each request), then the wall time; CPU within it
            assert 0 < in_process[0] and in_process == sorted(in_process) and in_process[-1] <= process
            assert 0 < cpu <= process
        assert len(values) == len(app) == len(bare)
        for ratio, mine, theirs in zip(values, app, bare):
            assert abs(ratio - mine / theirs) <= 0.01 + 0.5 / theirs * ratio
        assert verdict == ("met" if values[-3] <= 1.3 else "NOT met")
