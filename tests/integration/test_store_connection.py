"""One botocore session per process: every table model, every transaction and the boto clients (SQS, Secrets
Manager) share it, so a cold start resolves credentials and loads botocore's data once, not once per table."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.core import aws
from chalicelib.store import base, sessions, shares, tables, tenants

ROOT = Path(__file__).resolve().parents[2]

# A fresh process (as a Lambda cold start is): counts the botocore sessions made and the clients made from each, while
# models read their tables — a row type of the shares table before the table's base model — and the SQS client lists
# its queues.
_COLD_PROCESS = """
import json
import botocore.session

made, clients = [], []
init, create = botocore.session.Session.__init__, botocore.session.Session.create_client

def counting_init(self, *args, **kwargs):
    made.append(id(self))
    init(self, *args, **kwargs)

def counting_create(self, service_name, *args, **kwargs):
    clients.append([id(self), service_name])
    return create(self, service_name, *args, **kwargs)

botocore.session.Session.__init__ = counting_init
botocore.session.Session.create_client = counting_create

from chalicelib.core.aws import client
from chalicelib.store import sessions, shares, tenants

assert list(tenants.Tenant.query("tn-nobody", limit=1)) == []
assert list(sessions.Session.query("nobody", limit=1)) == []
assert list(shares.ItemRow.query("tn-nobody#i#task#T-1", limit=1)) == []
assert list(shares.ShareRow.query("tn-nobody#i#task#T-1", limit=1)) == []
assert list(tenants.Tenant.query("tn-nobody-else", limit=1)) == []
client("sqs").list_queues()
print(json.dumps({"sessions": made, "clients": clients}))
"""


def test_a_cold_process_makes_one_botocore_session_and_one_dynamodb_client(emulator):
    run = subprocess.run([sys.executable, "-c", _COLD_PROCESS], cwd=ROOT, env=dict(os.environ), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    assert len(seen["sessions"]) == 1
    assert sorted(service for _, service in seen["clients"]) == ["dynamodb", "sqs"]
    assert {session for session, _ in seen["clients"]} == set(seen["sessions"])


def test_every_model_uses_the_one_connection_and_transactions_the_one_session(emulator):
    shared = base.connection()
    assert all(model._get_connection().connection is shared for model in [*tables.all_models(), shares.ItemRow])
    assert base.transaction_connection() is base.transaction_connection()
    assert base.transaction_connection().session is aws.session()
    assert tenants.Tenant._get_connection().connection.session is aws.session()
    assert sessions.Session._get_connection().connection.client is tenants.Tenant._get_connection().connection.client


_SEND_GIVEN_URL = """
import json
import botocore.hooks

sent = []
emit = botocore.hooks.HierarchicalEmitter.emit

def counting_emit(self, event_name, **kwargs):
    if event_name.startswith("before-send.sqs."):
        sent.append(event_name.rsplit(".", 1)[-1])
    return emit(self, event_name, **kwargs)

botocore.hooks.HierarchicalEmitter.emit = counting_emit

from chalicelib.store import queues
queues.send("callbacks", {"probe": 1})
print(json.dumps(sent))
"""


def test_a_queue_url_given_by_the_deployment_saves_the_lookup(emulator):
    """As deployed (the template sets YQ_QUEUE_URL_<QUEUE>) a cold process sends at once; without it, it looks the
    URL up first."""
    from chalicelib.core import config
    from chalicelib.store import queues

    given = {**os.environ, config.queue_url_variable("callbacks"): queues.url("callbacks")}
    bare = {name: value for name, value in os.environ.items() if not name.startswith("YQ_QUEUE_URL_")}
    for env, expected in ((given, ["SendMessage"]), (bare, ["GetQueueUrl", "SendMessage"])):
        run = subprocess.run([sys.executable, "-c", _SEND_GIVEN_URL], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout.splitlines()[-1]) == expected
    sqs, probes = aws.client("sqs"), 0
    while batch := sqs.receive_message(QueueUrl=queues.url("callbacks"), MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            if json.loads(message["Body"]) == {"probe": 1}:
                probes += 1
                sqs.delete_message(QueueUrl=queues.url("callbacks"), ReceiptHandle=message["ReceiptHandle"])
    assert probes == 2
