"""The cold-start benchmark's smoke mode: it builds the package, runs each case once in fresh interpreters against its
own emulator, and prints medians and ratios that are consistent with each other."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^(bare|yunqiao), (with \.pyc|no \.pyc)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")
RATIO = re.compile(r"^ratio \((before|after)\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+target \+callback <= 1\.3: "
                   r"(met|NOT met)$")


def test_the_smoke_run_prints_consistent_medians_and_ratios():
    answer = subprocess.run([sys.executable, "bench/bench_cold_start.py", "--smoke"], cwd=ROOT, capture_output=True,
                            text=True, timeout=1200)
    assert answer.returncode == 0, answer.stderr[-3000:]
    lines = answer.stdout.splitlines()
    assert re.match(r"^cold start as Lambda runs it: Python 3\.\d+\.\d+, code from deployment\.zip, medians of 1 runs",
                    lines[0])
    rows = {(m[1], m[2]): [int(v) for v in m.groups()[2:]] for m in map(ROW.match, lines) if m}
    ratios = {m[1]: ([float(v) for v in m.groups()[1:5]], m[6]) for m in map(RATIO.match, lines) if m}
    variants = {"after": "with .pyc", "before": "no .pyc"}
    assert "before" in ratios and set(ratios) <= set(variants)
    for variant, (values, verdict) in ratios.items():
        label = variants[variant]
        app, bare = rows[("yunqiao", label)], rows[("bare", label)]
        for figures in (app, bare):
            imported, home, callback, process = figures
            assert 0 < imported <= home <= callback <= process  # cumulative in-process times, then the wall time
        for ratio, mine, theirs in zip(values, app, bare):
            assert abs(ratio - mine / theirs) <= 0.01 + 0.5 / theirs * ratio
        assert verdict == ("met" if values[2] <= 1.3 else "NOT met")
