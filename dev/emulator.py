"""The local AWS emulator (moto server) on loopback, with a stage's tables and queues created in it.

Used by `make run`, the benchmarks and the test session: all get the resources from `infra.resources`, the same
definition AWS gets, and two corrections that bring moto closer to DynamoDB (`serve`): each request applied
atomically, and a table Query that reads its partition alone.
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


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_emulator(port: int, log_file=subprocess.DEVNULL, moto_query: bool = False) -> subprocess.Popen:
    """Start the emulator (`serve`) as a child process and wait until it answers. `moto_query`: leave moto's own
    whole-table Query in place (a bench measuring moto's cost), instead of the partition-local one."""
    python_path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "dev.emulator", "--port", str(port), *(["--moto-query"] if moto_query else [])],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env={**os.environ, **LOCAL_CREDENTIALS, "PYTHONPATH": python_path},
    )
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


def create_stage_resources(stage: str, progress=lambda _msg: None) -> None:
    """Create the stage's tables and queues in the emulator that AWS_ENDPOINT_URL points at."""
    from infra.local import create_resources
    from infra.resources import data_resources

    create_resources(data_resources(stage), progress)


def make_dynamodb_atomic() -> None:
    """In this (the emulator's) process: apply every DynamoDB request whole before the next one starts.

    DynamoDB applies each request atomically: a conditional write's check and write are one step, and a transaction
    is isolated from every other request. moto's server answers requests on concurrent threads and applies a
    conditional UpdateItem as read, check, write without a lock, so two concurrent writers can both pass a condition
    only one may pass; its TransactWriteItems deep-copies the tables it touches and, when a condition fails, restores
    the copies, undoing writes that other requests committed meanwhile (and showing its partial writes to concurrent
    reads). Tests and benchmarks that race threads (standing in for concurrent Lambda invocations) saw both.

    The lock is here, in the emulator, rather than around the client's calls: it holds whichever process sends the
    requests (the test process, `chalice local`, the local stack's pump) and whichever client library sends them
    (PynamoDB, boto3), and it covers reads too, so no request sees another half-applied. Only DynamoDB is
    serialised; SQS long polls and the other services stay concurrent.
    """
    import threading

    from moto.dynamodb.responses import DynamoHandler

    one_at_a_time = threading.Lock()
    call_action = DynamoHandler.call_action

    def atomic(self):
        with one_at_a_time:
            return call_action(self)

    DynamoHandler.call_action = atomic


def make_query_partition_local() -> None:
    """In this (the emulator's) process: answer a table Query from the queried partition alone, as DynamoDB does.

    moto answers a Query on a table by walking and sorting every item of the table (`Table.all_items`), so its cost
    grows with the table, whatever the partition: a test session's emulator fills up as its tests run, and its late
    Queries were slow enough to time out; a bench's large tenant would look slower only because moto is. Here a
    table Query sees only its partition's items (the same items in the same order); index Queries walk the table,
    as before.
    """
    import threading

    from moto.dynamodb.models.table import Table

    scope = threading.local()
    all_items, query = Table.all_items, Table.query

    def partition_items(self):
        partition = getattr(scope, "partition", None)
        return all_items(self) if partition is None else partition

    def partition_query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            return query(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)
        if found is None:
            scope.partition = []
        elif self.range_key_attr:
            scope.partition = sorted(found.values(), key=lambda item: item.range_key)
        else:
            scope.partition = [found]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            scope.partition = None

    Table.all_items, Table.query = partition_items, partition_query


def serve(port: int, host: str = "127.0.0.1", moto_query: bool = False) -> None:
    """moto server with DynamoDB's per-request atomicity (`make_dynamodb_atomic`) and, unless `moto_query`, its
    partition-local table Query (`make_query_partition_local`)."""
    from moto.server import main

    make_dynamodb_atomic()
    if not moto_query:
        make_query_partition_local()
    main(["-H", host, "-p", str(port)])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=serve.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--moto-query", action="store_true", help="moto's own whole-table Query")
    arguments = parser.parse_args()
    serve(arguments.port, arguments.host, arguments.moto_query)
