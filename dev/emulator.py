"""The local AWS emulator (moto server) on loopback, with a stage's tables and queues created in it.

Used by `make run` and by the test session: both get the resources from `infra.resources`, the same definition
AWS gets.
"""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "ap-southeast-1",
    "AWS_REGION": "ap-southeast-1",
}


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768+), so no outgoing connection can take it before we bind it."""
    while True:
        port = random.randint(20000, 32000)
        with closing(socket.socket()) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            # A generous per-attempt timeout: a cold `chalice local` imports the app first, and a client
            # that gives up early leaves the server writing to a closed socket (a BrokenPipe traceback per try).
            urllib.request.urlopen(url, timeout=10)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process for {url} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")
            time.sleep(0.1)


def stop_process(process: subprocess.Popen, grace_seconds: float = 10.0) -> None:
    """Ask a child to stop, and kill it if it has not within the grace period (a busy moto server can ignore
    SIGTERM for a while), so a test session or the local stack never ends on a hung child."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_emulator(port: int, log_file=subprocess.DEVNULL) -> subprocess.Popen:
    """Start moto server as a child process and wait until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env={**os.environ, **LOCAL_CREDENTIALS},
    )
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


def create_stage_resources(stage: str, progress=lambda _msg: None) -> None:
    """Create the stage's tables and queues in the emulator that AWS_ENDPOINT_URL points at."""
    from infra.local import create_resources
    from infra.resources import data_resources

    create_resources(data_resources(stage), progress)
