from __future__ import annotations

import json
import time

import pytest


@pytest.fixture(autouse=True)
def _emulator(emulator):
    """Every integration test talks to the emulator."""
    return emulator


def _test_client():
    from chalice.test import Client

    from app import app

    return Client(app, stage_name="local")


@pytest.fixture
def client():
    """The app through Chalice's test client: the same routing, middleware and handlers as API Gateway + Lambda."""
    with _test_client() as test_client:
        yield test_client


@pytest.fixture(scope="module")
def module_client(emulator):
    """`client`, once for a module: for the read-only worlds a module builds once (`module_demo_tenant`)."""
    with _test_client() as test_client:
        yield test_client


DEMO_SECRETS = {
    "contacts_secret": "contacts-secret",
    "customer_secret": "customer-secret",
    "app_secret": "app-secret",
    "callback_token": "QDG6eK",
    "callback_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
}


@pytest.fixture
def make_tenant():
    """Create a self-built tenant with a fresh key (tests never share onboarding), returning the stored record."""
    from chalicelib.tenants import onboarding

    def make(**overrides):
        fields = {
            "name": "测试团队",
            "corp_id": "ww" + onboarding.new_tenant_key(),
            "agent_id": "1000002",
            "wecom_secrets": dict(DEMO_SECRETS),
        }
        fields.update(overrides)
        return onboarding.create_self_built(**fields)

    return make


class Queue:
    """A queue of the local stage and its dead-letter queue (`<name>-dlq`), read without taking anything off them."""

    def __init__(self, name: str) -> None:
        from chalicelib.core.aws import client as aws_client

        self.name = name
        self._sqs = aws_client("sqs")

    def _url(self, dlq: bool = False) -> str:
        from chalicelib.store import queues

        return queues.url(f"{self.name}-dlq" if dlq else self.name)

    def messages(self, dlq: bool = False) -> list[dict]:
        """Every visible message, its body parsed, left visible: each is hidden while the others are read (so that no
        receive returns it twice), then shown again."""
        url = self._url(dlq)
        found: list[dict] = []
        while batch := self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                                 MessageAttributeNames=["All"]).get("Messages", []):
            found += batch
        for start in range(0, len(found), 10):
            self._sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(found[start:start + 10])])
        return [dict(m, body=json.loads(m["Body"])) for m in found]

    def wait_for_messages(self, seconds: float = 30) -> list[dict]:
        """Messages once a backoff has passed (a failed message is hidden, by design, for a second or more)."""
        deadline = time.monotonic() + seconds
        while not (found := self.messages()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return found

    def in_flight(self) -> int:
        """Messages received but neither deleted nor visible again: a consumer failed on them."""
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._url(),
                                                    AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

    def purge(self) -> None:
        """Delete every message of both (PurgeQueue is allowed once a minute, too rarely for tests)."""
        for url in (self._url(), self._url(dlq=True)):
            while batch := self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                self._sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])


@pytest.fixture
def queue():
    """`queue(name)`: that queue and its dead-letter queue, emptied now and again after the test, so that a test
    reads only its own messages and leaves none to the next."""
    made: list[Queue] = []

    def make(name: str) -> Queue:
        made.append(Queue(name))
        made[-1].purge()
        return made[-1]

    yield make
    for each in made:
        each.purge()


@pytest.fixture
def callbacks_queue(queue):
    """The callbacks queue and its dead-letter queue, emptied."""
    return queue("callbacks")


@pytest.fixture
def notifications_queue(queue):
    """The notifications queue and its dead-letter queue, emptied: a test reads only the notifications it caused."""
    return queue("notifications")


@pytest.fixture
def backoffs(monkeypatch):
    """The visibility delays consumers ask for, granted at once: time travel instead of waiting out a backoff."""
    from chalicelib.store import queues

    requested: list[int] = []
    hide = queues.set_visibility

    def instant(logical_name: str, receipt_handle: str, seconds: int) -> None:
        requested.append(seconds)
        hide(logical_name, receipt_handle, 0)

    monkeypatch.setattr(queues, "set_visibility", instant)
    return requested


@pytest.fixture
def fast_wecom(monkeypatch, emulator):
    """`fast_wecom(attempts)`: WeCom calls make that many tries without the transport's real sleeps, timing out after
    half a second; and no token is left in the shared cache by another test (the simulator forgot it: the retry it
    would cause would blur the call counts)."""
    from chalicelib.tenants import wecom_clients
    from chalicelib.store.wecom_state import WeComState
    from chalicelib.core import config
    from chalicelib.wecom.http import RetryPolicy, Transport

    def use(attempts: int) -> None:
        transport = Transport(RetryPolicy(attempts=attempts, connect_timeout=1.0, read_timeout=0.5),
                              base_url=config.wecom_base_url(), sleep=lambda _s: None)
        monkeypatch.setattr(wecom_clients, "_transport", lambda: transport)
        for item in WeComState.scan(WeComState.pk.startswith("token#")):  # test-only Scan
            item.delete()

    return use


@pytest.fixture
def dedupe_records():
    """How many callback dedupe records exist (a test-only Scan)."""
    from chalicelib.store.callback_events import CallbackEvent

    return lambda: CallbackEvent.count()


@pytest.fixture(scope="session")
def app_server(emulator, simulator_session):
    """The app served by `chalice local` (as `make run` does), for callers that speak real HTTP: the simulator."""
    import subprocess
    import sys
    from pathlib import Path

    from dev.emulator import free_port, stop_process, wait_for_http

    port = free_port()
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "chalice"), "local", "--stage", "local", "--host", "127.0.0.1",
         "--port", str(port), "--no-autoreload"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=120, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _seed_demo_tenant():
    from pathlib import Path

    from chalicelib.tenants import onboarding
    from chalicelib.store.wecom_state import WeComState
    from dev.seed import seed

    for item in WeComState.scan(WeComState.pk.startswith("token#")):  # test-only Scan
        item.delete()
    return seed(Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json", onboarding.new_tenant_key())


@pytest.fixture
def demo_tenant(emulator, simulator):
    """A fresh tenant bound to the simulator's demo corp (its real secrets), auto-sync on.

    The simulator was reset, so tokens cached by earlier tests are unknown to it: they are dropped, and each test
    counts only its own WeCom calls.
    """
    return _seed_demo_tenant()


@pytest.fixture(scope="module")
def module_demo_tenant(emulator, simulator_session):
    """`demo_tenant`, once for a module: the ground of a world that the module's tests only read (a tenant of its own,
    so nothing another module does shows in it). Build the world in a module-scoped fixture of the test module."""
    simulator_session.control.reset()
    return _seed_demo_tenant()


@pytest.fixture(scope="module")
def module_sign_in(module_client, simulator_session):
    """`sign_in`, for the worlds built once per module."""
    return lambda tenant, user_id, roles=(): sign_in_member(module_client, simulator_session, tenant, user_id, roles)


@pytest.fixture
def chen(demo_tenant):
    """The demo customer 陈先生 (followed by zhangsan and lisi) as a synced contact of the demo tenant."""
    from tests.integration.sharing_support import CHEN, sync_customer

    return sync_customer(demo_tenant, CHEN)


@pytest.fixture
def lin(demo_tenant):
    """The demo customer 林女士 (followed by zhangsan) as a synced contact of the demo tenant."""
    from tests.integration.sharing_support import LIN, sync_customer

    return sync_customer(demo_tenant, LIN)


@pytest.fixture
def pump():
    """Lambda's SQS poller and EventBridge for the app's own consumers and schedules."""
    from app import app
    from dev.pump import EventPump

    return EventPump(app)


def sign_in_member(client, simulator, tenant, user_id: str, roles: tuple[str, ...] = ()) -> dict:
    from chalicelib.store import roles as role_store
    from tests.integration.api_support import bearer_of
    from tests.integration.oauth_support import exchange, member_round_trip

    for role in roles:
        role_store.grant(tenant.tenant_key, user_id, role, "test")
    state, cookie = member_round_trip(client, tenant)
    code = simulator.control.mint_oauth_code(corpid=tenant.corp_id, userid=user_id)
    reply = exchange(client, "/api/auth/wecom/session", {"tenantKey": tenant.tenant_key, "code": code}, state, cookie)
    assert reply.status_code == 201, reply.body
    return bearer_of(reply)


@pytest.fixture
def sign_in(client, simulator):
    """Sign a member of the simulated corp in through WeCom OAuth (a code minted by the simulator, exchanged by the
    app's own route) and return the request headers carrying the session. `roles` are granted first."""
    return lambda tenant, user_id, roles=(): sign_in_member(client, simulator, tenant, user_id, roles)


@pytest.fixture
def sync_queue(emulator):
    """The sync queue (and its dead-letter queue), emptied, with a way to read what is on it."""
    from chalicelib.core.aws import client
    from chalicelib.store import queues

    sqs = client("sqs")

    class Queue:
        def bodies(self) -> list[dict]:
            """Every message on the queue, left on it: each received one is hidden until all are read (a receive
            returns at most ten, and the same visible ten again), then made visible again."""
            seen: dict[str, dict] = {}
            handles = []
            while batch := sqs.receive_message(QueueUrl=queues.url("sync"), MaxNumberOfMessages=10,
                                               VisibilityTimeout=30).get("Messages", []):
                seen.update((m["MessageId"], json.loads(m["Body"])) for m in batch)
                handles += [m["ReceiptHandle"] for m in batch]
            for handle in handles:
                sqs.change_message_visibility(QueueUrl=queues.url("sync"), ReceiptHandle=handle, VisibilityTimeout=0)
            return list(seen.values())

        def keep_only(self, tenant_key: str) -> None:
            """Delete every message but this tenant's (other tests' tenants are in the same emulator)."""
            kept = []
            while batch := sqs.receive_message(QueueUrl=queues.url("sync"), MaxNumberOfMessages=10,
                                               VisibilityTimeout=30).get("Messages", []):
                for message in batch:
                    if json.loads(message["Body"])["tenantKey"] == tenant_key:
                        kept.append(message["ReceiptHandle"])
                    else:
                        sqs.delete_message(QueueUrl=queues.url("sync"), ReceiptHandle=message["ReceiptHandle"])
            for handle in kept:
                sqs.change_message_visibility(QueueUrl=queues.url("sync"), ReceiptHandle=handle, VisibilityTimeout=0)

        def purge(self) -> None:
            for name in ("sync", "sync-dlq"):
                while batch := sqs.receive_message(QueueUrl=queues.url(name), MaxNumberOfMessages=10,
                                                   VisibilityTimeout=0).get("Messages", []):
                    sqs.delete_message_batch(QueueUrl=queues.url(name), Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])

        def dead_letters(self) -> list[dict]:
            return sqs.receive_message(QueueUrl=queues.url("sync-dlq"), MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", [])

    queue = Queue()
    queue.purge()
    yield queue
    queue.purge()


@pytest.fixture
def run_sync(pump, sync_queue):
    """Queue a run for the tenant and let the pump deliver until the queue is empty; returns the run's record."""

    from chalicelib.core import config
    from chalicelib.store import sync_runs
    from chalicelib.sync import checkpoint as sync_checkpoint, triggers as sync_triggers

    def run(tenant, trigger: str = "admin") -> dict:
        run_id = sync_triggers.queue_run(tenant, trigger)
        pump.drain(config.resource_name("sync"))
        assert sync_queue.dead_letters() == []
        record = sync_runs.get_run(tenant.tenant_key, run_id)
        assert record is not None and record.status == sync_runs.SUCCEEDED, (
            record and sync_checkpoint.describe_run(record))
        return sync_checkpoint.describe_run(record)

    return run
