"""The operators' command line: onboard and inspect tenants without the AWS console.

    python -m ops tenants create --name 云桥演示 --corp-id ww123 --agent-id 1000002 --secrets-file secrets.json
    python -m ops tenants show tnxabtf9g2
    python -m ops tenants list
    python -m ops tenants disable tnxabtf9g2
    python -m ops tenants service-key tnxabtf9g2     issue or rotate the integrations' key (printed once)
    python -m ops queues redrive profile-links

Secrets are read from a JSON file (or `-` for stdin), never from the command line, where shell history and the
process list would keep them. Progress goes to stderr, results as JSON to stdout; a refusal exits 2 with its reason.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from chalicelib.errors import AppError


def _progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _read_secrets(path: str) -> dict:
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise AppError(f"secrets file is not JSON: {err.msg} (line {err.lineno})", code="invalid_secrets_file") from None
    if not isinstance(value, dict):
        raise AppError("secrets file must hold one JSON object", code="invalid_secrets_file")
    return value


def tenants_create(args: argparse.Namespace) -> None:
    from chalicelib import tenants

    wecom_secrets = _read_secrets(args.secrets_file)
    _progress(f"storing secrets and tenant record for corp {args.corp_id}")
    tenant = tenants.create_self_built(
        name=args.name,
        corp_id=args.corp_id,
        agent_id=args.agent_id,
        wecom_secrets=wecom_secrets,
        tenant_key=args.tenant_key,
        auto_sync_customers=args.auto_sync,
        public_base_url=args.public_base_url,
    )
    _progress(f"created tenant {tenant.tenant_key}")
    _print(tenants.describe(tenant))


def tenants_show(args: argparse.Namespace) -> None:
    from chalicelib import tenants
    from chalicelib.store import tenants as tenant_store

    _print(tenants.describe(tenant_store.get(args.tenant_key)))


def tenants_list(_args: argparse.Namespace) -> None:
    """A Scan, acceptable here: an operator's one-off listing, never a request path."""
    from chalicelib.store.tenants import Tenant

    _progress("listing tenants")
    rows = [
        {"tenantKey": t.tenant_key, "name": t.name, "mode": t.mode, "corpId": t.corp_id, "enabled": t.enabled}
        for t in Tenant.scan()
    ]
    _print(sorted(rows, key=lambda row: row["tenantKey"]))


def _set_enabled(enabled: bool) -> Callable[[argparse.Namespace], None]:
    def command(args: argparse.Namespace) -> None:
        from chalicelib import tenants
        from chalicelib.store import tenants as tenant_store

        tenant = tenant_store.get(args.tenant_key)
        tenant_store.set_enabled(tenant, enabled)
        _progress(f"tenant {tenant.tenant_key} {'enabled' if enabled else 'disabled'}")
        _print(tenants.describe(tenant_store.get(args.tenant_key)))

    return command


def tenants_service_key(args: argparse.Namespace) -> None:
    """Issue the tenant's service key for its integrations, replacing the previous one: the only time it is shown
    (only its hash is kept). Give it to the modules that register items (`Authorization: Service <key>`)."""
    from chalicelib.auth import service_keys
    from chalicelib.store import tenants as tenant_store

    tenant = tenant_store.get_enabled(args.tenant_key)
    key, issued_at = service_keys.issue(tenant)
    _progress(f"issued a service key for {tenant.tenant_key}; the previous one no longer works")
    _print({"tenantKey": tenant.tenant_key, "serviceKey": key, "issuedAt": issued_at.isoformat()})


def queues_redrive(args: argparse.Namespace) -> None:
    """Move a queue's dead letters back onto it, at most as many as its dead-letter queue held when the command
    started: a message that fails again meanwhile is dead-lettered anew, and must not be redriven round in a loop."""
    from chalicelib.aws import client
    from chalicelib.store import queues

    sqs = client("sqs")
    source, target = queues.url(f"{args.queue}-dlq"), queues.url(args.queue)
    held = int(sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])
    budget = held if args.max is None else min(held, args.max)
    _progress(f"{held} dead letters in {args.queue}-dlq, redriving {budget}")
    moved, reasons = 0, {}
    while moved < budget:
        batch = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=min(10, budget - moved), WaitTimeSeconds=1,
                                    VisibilityTimeout=120, MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        sent = sqs.send_message_batch(
            QueueUrl=target, Entries=[{"Id": str(n), "MessageBody": m["Body"]} for n, m in enumerate(batch)]
        ).get("Successful", [])
        done = [batch[int(entry["Id"])] for entry in sent]  # a refused entry stays in the DLQ for the next run
        if done:
            sqs.delete_message_batch(QueueUrl=source, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        for message in done:
            reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "unknown")
            reasons[reason] = reasons.get(reason, 0) + 1
        moved += len(done)
        if len(done) < len(batch):
            _progress(f"{len(batch) - len(done)} refused by {args.queue}, left in the dead-letter queue")
            break
        _progress(f"redriven {moved} of {budget}")
    _print({"queue": args.queue, "redriven": moved, "reasons": reasons})


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = root.add_subparsers(dest="group", required=True)
    tenant = groups.add_parser("tenants", help="create and inspect tenants").add_subparsers(dest="command", required=True)

    create = tenant.add_parser("create", help="onboard a self-built-app tenant")
    create.add_argument("--name", required=True)
    create.add_argument("--corp-id", required=True)
    create.add_argument("--agent-id", required=True)
    create.add_argument("--secrets-file", required=True, help="JSON with contacts_secret, customer_secret, app_secret, callback_token, callback_aes_key; '-' for stdin")
    create.add_argument("--tenant-key", help="default: a new random key")
    create.add_argument("--auto-sync", action="store_true", help="sync WeCom customers into the directory")
    create.add_argument("--public-base-url")
    create.set_defaults(run=tenants_create)

    show = tenant.add_parser("show", help="one tenant, without secrets")
    show.add_argument("tenant_key")
    show.set_defaults(run=tenants_show)

    tenant.add_parser("list", help="every tenant").set_defaults(run=tenants_list)
    for name, enabled in (("enable", True), ("disable", False)):
        sub = tenant.add_parser(name, help=f"{name} a tenant (a disabled one is refused everywhere; its data stays)")
        sub.add_argument("tenant_key")
        sub.set_defaults(run=_set_enabled(enabled))

    service_key = tenant.add_parser("service-key", help="issue or rotate the key integrations register items with")
    service_key.add_argument("tenant_key")
    service_key.set_defaults(run=tenants_service_key)

    from chalicelib.store.queues import QUEUES

    queue = groups.add_parser("queues", help="work queues").add_subparsers(dest="command", required=True)
    redrive = queue.add_parser("redrive", help="send a queue's dead letters back to it, once each")
    redrive.add_argument("queue", choices=[spec.logical_name for spec in QUEUES], help="the queue's logical name")
    redrive.add_argument("--max", type=int, help="redrive at most this many")
    redrive.set_defaults(run=queues_redrive)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except AppError as err:
        print(f"error: {err.message} ({err.code})", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
