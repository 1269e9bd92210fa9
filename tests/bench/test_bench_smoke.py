"""Every benchmark still runs: each one's smoke mode (tiny sizes), as a subprocess, must exit 0 and print its figures.

A benchmark is not run by the suite otherwise, so an API change that breaks one would go unnoticed until someone
needs its figures (bench_sync.py crashed for that reason). The smoke runs start together (a module fixture) and
each test reads one's output: most of their time is waiting on their own emulator and simulator, so together they
take little more than the slowest one. The figures are parsed, not judged against the targets (tiny sizes say
nothing of latency ratios), except the deterministic ones: requests counted, messages lost, writes on a re-run.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 240  # seconds for every smoke run together, on a busy machine; each takes seconds alone
NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?)"


@dataclass(frozen=True)
class Bench:
    script: str
    figures: tuple[str, ...]  # patterns, each with at least one NUMBER, that must all be printed
    verdicts: tuple[str, ...] = ()  # lines the run must print as they are (its deterministic targets met)


BENCHES = [
    Bench("bench_crypto.py",
          (rf"ratio ours/wechatpy, like for like \(POST body -> plaintext\): {NUMBER}",
           rf"ratio ours/wechatpy, decrypt only \(Encrypt -> plaintext\): +{NUMBER}",
           rf"ours: median {NUMBER} callbacks/s"),
          ("all sides agree on every plaintext",)),
    Bench("bench_page_weight.py",
          (rf"== external home page: {NUMBER} requests", rf"ratio raw total / target 100 KB: {NUMBER}"),
          ("meets the target",)),
    Bench("bench_callbacks.py",
          (rf"POST callback median {NUMBER} req/s; put\+send\+update baseline {NUMBER} req/s; ratio {NUMBER}",
           rf"round 2/2 \(baseline first\): ours {NUMBER}/s, baseline {NUMBER}/s",
           rf"tenant reads per callback: {NUMBER}"),
          ("target one conditional put, one send and one state update per callback: met",)),
    Bench("bench_directory.py",
          tuple(rf"latency ratio 300 / 120 contacts, {page}: {NUMBER}" for page in ("first", "deep", "search"))
          + (rf"first +300 +{NUMBER} +{NUMBER} +{NUMBER}",),
          ("requests per page identical at both sizes: True; exactly one list Query per page: True",)),
    Bench("bench_home.py",
          tuple(rf"latency ratio 100 / 20 shares, {request}: {NUMBER}" for request in ("home", "list", "section"))
          + (rf"home: at most {NUMBER} DynamoDB requests",),
          ("requests identical at both sizes: True",)),
    Bench("bench_profile_links.py",
          (rf"wall time +{NUMBER} s vs theoretical minimum {NUMBER} s \(x{NUMBER}\)",
           rf"WeCom calls +{NUMBER} = {NUMBER} per member", rf"SQS send calls +{NUMBER}:"),
          ("messages lost         0", "PASS")),
    Bench("bench_sync.py",
          (rf"^ +40 +1 +{NUMBER} +\( *{NUMBER} / +{NUMBER}\)", rf"^ +40 +2 +{NUMBER}"),
          ("second run at 40: 0 directory writes (target 0): met", "all targets met")),
    Bench("bench_cold_start.py", (rf"ratio \(before\) +{NUMBER}",)),
]


def has_smoke_mode(bench: Bench) -> bool:
    return "--smoke" in (ROOT / "bench" / bench.script).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def smoke_runs() -> dict[str, subprocess.CompletedProcess]:
    """Every benchmark's smoke run, started together, by script name."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "YQ_"))}
    started = {
        bench.script: subprocess.Popen([sys.executable, str(ROOT / "bench" / bench.script), "--smoke"], cwd=ROOT,
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for bench in BENCHES if has_smoke_mode(bench)
    }
    finished = {}
    try:
        for script, process in started.items():
            output, _ = process.communicate(timeout=TIMEOUT)
            finished[script] = subprocess.CompletedProcess(process.args, process.returncode, output)
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return finished


def test_every_benchmark_is_smoke_tested():
    scripts = sorted(path.name for path in (ROOT / "bench").glob("bench_*.py"))
    assert sorted(bench.script for bench in BENCHES) == scripts


@pytest.mark.parametrize("bench", [pytest.param(bench, id=bench.script) for bench in BENCHES])
def test_the_smoke_run_prints_its_figures(bench: Bench, smoke_runs):
    if not has_smoke_mode(bench):
        pytest.skip(f"{bench.script} has no smoke mode yet")
    run = smoke_runs[bench.script]
    assert run.returncode == 0, run.stdout[-3000:]
    for pattern in bench.figures:
        found = re.search(pattern, run.stdout, re.MULTILINE)
        assert found, (pattern, run.stdout[-3000:])
        figures = [float(group.replace(",", "")) for group in found.groups()]
        assert figures and all(math.isfinite(figure) for figure in figures), (pattern, found.group(0))
    for verdict in bench.verdicts:
        assert verdict in run.stdout, (verdict, run.stdout[-3000:])


COLD_ROW = re.compile(r"^(bare|yunqiao \S+), ([a-z +]+?)\s+(\d+(?:\s+\d+)+)$")
COLD_RATIO = re.compile(r"^ratio \((before|after, home|after, callback)\)\s+([\d. ]+?)\s+target \+(home|callback) <= 1\.3: "
                        r"(met|NOT met)$")
COLD_EXPECTED = {"before": ("yunqiao app.app", "home + callback"), "after, home": ("yunqiao api_public", "home"),
                 "after, callback": ("yunqiao api_callbacks", "callback")}


def test_the_cold_start_figures_agree_with_each_other(smoke_runs):
    """The cold-start table's figures are cumulative (import, then after each request, then the process's wall time,
    the CPU within it), each ratio is its row's figure over the bare app's, and the verdict follows the ratio: a
    formatting slip would otherwise go unseen."""
    lines = smoke_runs["bench_cold_start.py"].stdout.splitlines()
    assert any(re.match(r"^cold start as Lambda runs it: Python 3\.\d+\.\d+, code from deployment\.zip "
                        r"\((with|no) \.pyc\), medians of 1 runs", line) for line in lines), lines[:5]
    rows = {(m[1], m[2]): [int(v) for v in m[3].split()] for m in map(COLD_ROW.match, lines) if m}
    ratios = {m[1]: ([float(v) for v in m[2].split()], m[3], m[4]) for m in map(COLD_RATIO.match, lines) if m}
    assert set(ratios) == set(COLD_EXPECTED)
    for label, (values, total, verdict) in ratios.items():
        app_name, requests = COLD_EXPECTED[label]
        app, bare = rows[(app_name, requests)], rows[("bare", requests)]
        assert total == requests.split(" + ")[-1]
        for figures in (app, bare):
            *in_process, process, cpu = figures
            assert 0 < in_process[0] and in_process == sorted(in_process) and in_process[-1] <= process
            assert 0 < cpu <= process
        assert len(values) == len(app) == len(bare)
        for ratio, mine, theirs in zip(values, app, bare):
            assert abs(ratio - mine / theirs) <= 0.01 + 0.5 / theirs * ratio
        assert verdict == ("met" if values[-3] <= 1.3 else "NOT met")
