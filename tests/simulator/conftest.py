"""One simulator per test session (started through the harness on a free port), reset before every test."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from dev.wecom_sim.harness import RunningSimulator, start_simulator
from tests.simulator.support import DEMO_PATH, CallbackSink, WeComHTTP


@pytest.fixture(scope="session")
def running() -> Iterator[RunningSimulator]:
    sim = start_simulator(DEMO_PATH)
    yield sim
    sim.stop()


@pytest.fixture
def sim(running: RunningSimulator) -> RunningSimulator:
    running.control.reset()
    return running


@pytest.fixture
def wecom(sim: RunningSimulator) -> WeComHTTP:
    return WeComHTTP(sim.base_url)


@pytest.fixture
def sink() -> Iterator[CallbackSink]:
    s = CallbackSink()
    yield s
    s.stop()
