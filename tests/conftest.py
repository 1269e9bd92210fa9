"""Test session setup: the environment every chalicelib module reads at import, and the emulator on loopback.

The environment is set here, at collection time, before any test module imports chalicelib (PynamoDB models read
their endpoint when their class is created). Each pytest-xdist worker gets an emulator of its own.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests judge what the code answers, never how fast: Hypothesis's default 200 ms per example is a timed
# assertion that a busy machine fails.
settings.register_profile("yunqiao", deadline=None)
settings.load_profile("yunqiao")
sys.path.insert(0, str(ROOT))

from dev.emulator import (  # noqa: E402
    LOCAL_CREDENTIALS,
    create_stage_resources,
    free_port,
    start_emulator,
    stop_process,
)

EMULATOR_PORT = free_port()
SIMULATOR_PORT = free_port()
os.environ.update(LOCAL_CREDENTIALS)
os.environ.update(
    {
        "YQ_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{EMULATOR_PORT}",
        "YQ_PUBLIC_BASE_URL": "https://yq.test",
        "YQ_WECOM_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}",
        "YQ_WECHAT_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}",
        "YQ_WECOM_LOGIN_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}",
        "YQ_SUITE_ID": "wwsuitedemo0001",
        "POWERTOOLS_METRICS_NAMESPACE": "Yunqiao",
        "POWERTOOLS_DEV": "false",
        # scrypt at a low cost (allowed in the local stage only): hashing at the deployed cost takes ~0.1 s a password
        "YQ_SCRYPT_N": "1024",
    }
)


@pytest.fixture(scope="session")
def emulator():
    """moto server with the local stage's tables and queues, created from infra's definition."""
    process = start_emulator(EMULATOR_PORT)
    try:
        create_stage_resources("local")
        yield os.environ["AWS_ENDPOINT_URL"]
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def simulator_session():
    """The WeCom simulator with the demo corp, on the port YQ_WECOM_BASE_URL names."""
    from dev.wecom_sim.harness import start_simulator

    sim = start_simulator(str(ROOT / "dev" / "scenarios" / "demo.json"), port=SIMULATOR_PORT)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def simulator(simulator_session):
    """The simulator reset to the demo scenario: no tokens, calls, faults or changes left by another test."""
    simulator_session.control.reset()
    return simulator_session
