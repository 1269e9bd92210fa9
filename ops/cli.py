"""The operators' command line: onboard and inspect tenants without the AWS console.

    python -m ops --stage prod --region ap-southeast-1 tenants create --name 云桥演示 --corp-id ww123 \
        --agent-id 1000002 --secrets-file secrets.json
    python -m ops --stage prod tenants create ... --admin zhangsan     # name the tenant's first admin too
    python -m ops --stage prod tenants show tnxabtf9g2
    python -m ops --stage prod tenants settings tnxabtf9g2                # show the settings
    python -m ops --stage prod tenants settings tnxabtf9g2 --set autoSyncCustomers=true --set defaultSecurityLevel=-10
    python -m ops --stage prod tenants add-admin tnxabtf9g2 zhangsan
    python -m ops --stage prod tenants list
    python -m ops --stage prod tenants disable tnxabtf9g2
    python -m ops --stage prod tenants service-key tnxabtf9g2     issue or rotate the integrations' key (printed once)
    python -m ops --stage prod tenants official-account-callback tnxabtf9g2 --secrets-file oa.json
                                        the official account's 服务器配置 token and EncodingAESKey
    python -m ops --stage prod tenants index-member-items tnxabtf9g2    the chat toolbar's 本人的项目 for older items
    python -m ops --stage prod queues redrive profile-links
    python -m ops --stage prod verification-files put WW_verify_AbC123.txt
    python -m ops --local tenants list            # the local stack (make run)

Which deployment is named every time: `--stage dev|prod` with `--region` (or AWS_REGION / AWS_DEFAULT_REGION) and
the operator's AWS credentials, or `--local` (the emulator of `make run`); without either, only a shell holding the
local stack's variables (YQ_STAGE=local and AWS_ENDPOINT_URL, as the tests set them) is taken as local. Secrets are
read from a JSON file (or `-` for stdin), never from the command line, where shell history and the process list
would keep them. Progress goes to stderr, results as JSON to stdout; a refusal exits 2 with its reason, never a
traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from chalicelib.core.errors import AppError


OPERATOR = "ops"  # who the audit and role grants name for a change made with this command


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
    from chalicelib.tenants import onboarding

    wecom_secrets = _read_secrets(args.secrets_file)
    _progress(f"storing secrets and tenant record for corp {args.corp_id}")
    tenant = onboarding.create_self_built(
        name=args.name,
        corp_id=args.corp_id,
        agent_id=args.agent_id,
        wecom_secrets=wecom_secrets,
        tenant_key=args.tenant_key,
        auto_sync_customers=args.auto_sync,
        public_base_url=args.public_base_url,
        corp_name=args.corp_name,
        corp_full_name=args.corp_full_name,
    )
    _progress(f"created tenant {tenant.tenant_key}")
    if args.admin:
        _name_admin(tenant, args.admin)
    _print(onboarding.describe(tenant))


def _name_admin(tenant: Any, user_id: str) -> None:
    """Grant the admin role to a member WeCom knows (asked over the tenant's own credentials)."""
    from chalicelib.auth import identity
    from chalicelib.wecom.errors import WeComApiError

    try:
        identity.grant_role(tenant, user_id, identity.ADMIN, OPERATOR)
    except (AppError, WeComApiError) as err:
        reason, code = (err.message, err.code) if isinstance(err, AppError) else (str(err), f"wecom_{err.errcode}")
        raise AppError(f"tenant {tenant.tenant_key} exists, but {user_id!r} could not be made its admin: "
                       f"{reason}; fix it with `tenants add-admin {tenant.tenant_key} <userid>`", code=code) from None
    _progress(f"{user_id} is an admin of {tenant.tenant_key}")


def tenants_add_admin(args: argparse.Namespace) -> None:
    from chalicelib.store import tenants as tenant_store

    _name_admin(tenant_store.get(args.tenant_key), args.user_id)
    _print({"tenantKey": args.tenant_key, "admin": args.user_id})


def _setting(text: str) -> tuple[str, Any]:
    """`name=value`: the value is read as JSON (true, -10, ["todos"], null), otherwise taken as a string."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise AppError(f"--set wants name=value, got {text!r}", code="invalid_setting")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def tenants_settings(args: argparse.Namespace) -> None:
    """Show a tenant's settings, or change some (validated and audited like the admin console's PATCH)."""
    from chalicelib.store import tenants as tenant_store
    from chalicelib.tenants import settings

    tenant = tenant_store.get(args.tenant_key)
    if not args.set:
        _print(settings.view(tenant))
        return
    changes = dict(_setting(text) for text in args.set)
    _progress(f"changing {', '.join(sorted(changes))} of {tenant.tenant_key}")
    _print(settings.change(tenant, changes, OPERATOR))


def tenants_show(args: argparse.Namespace) -> None:
    from chalicelib.tenants import onboarding
    from chalicelib.store import tenants as tenant_store

    _print(onboarding.describe(tenant_store.get(args.tenant_key)))


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
        from chalicelib.tenants import onboarding
        from chalicelib.store import tenants as tenant_store

        tenant = tenant_store.get(args.tenant_key)
        tenant_store.set_enabled(tenant, enabled)
        _progress(f"tenant {tenant.tenant_key} {'enabled' if enabled else 'disabled'}")
        _print(onboarding.describe(tenant_store.get(args.tenant_key)))

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


def tenants_official_account_callback(args: argparse.Namespace) -> None:
    """Store the token and EncodingAESKey of the official account's 服务器配置 (security mode), so its follow and
    unfollow callbacks to /wechat/callback/{tenantKey} are accepted. The account's appId must be set first."""
    from chalicelib.store import tenants as tenant_store
    from chalicelib.tenants import official_account

    tenant = tenant_store.get_enabled(args.tenant_key)
    if not official_account.app_id(tenant):
        raise AppError("set the official account first: tenants settings --set officialAccount='{\"appId\": ...}'",
                       code="wechat_not_configured")
    keys = _read_secrets(args.secrets_file)
    official_account.store_callback_keys(tenant, keys.get("token"), keys.get("encoding_aes_key"))
    _progress(f"stored the official account's callback keys for {tenant.tenant_key}")
    _print({"tenantKey": tenant.tenant_key, "callbackUrl": f"/wechat/callback/{tenant.tenant_key}",
            "callbackKeysStored": True})


def tenants_index_member_items(args: argparse.Namespace) -> None:
    """Index every item of the tenant under its owner and members (the chat toolbar's 本人的项目): once after
    upgrading to a version with the toolbar, for the items registered before; harmless to run again."""
    from chalicelib.sharing import items
    from chalicelib.store import tenants as tenant_store

    tenant = tenant_store.get_enabled(args.tenant_key)
    count = items.reindex_members(tenant.tenant_key)
    _progress(f"indexed {count} items of {tenant.tenant_key}")
    _print({"tenantKey": tenant.tenant_key, "items": count})


def queues_redrive(args: argparse.Namespace) -> None:
    """Move a queue's dead letters back onto it, at most as many as its dead-letter queue held when the command
    started: a message that fails again meanwhile is dead-lettered anew, and must not be redriven round in a loop."""
    from chalicelib.core.aws import client
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


def verification_files_put(args: argparse.Namespace) -> None:
    from chalicelib.store import verification_files

    path = Path(args.file)
    try:
        verification_files.put(path.name, path.read_text(encoding="utf-8").strip())
    except ValueError as err:
        raise AppError(str(err), code="invalid_verification_file") from None
    _progress(f"serving /{path.name}")
    _print({"file": path.name, "served": True})


LOCAL_ENDPOINT = "http://127.0.0.1:4566"  # the local stack's emulator (`make run`)


def select_deployment(args: argparse.Namespace) -> None:
    """Point chalicelib at the deployment the operator named, before any table or client is created."""
    if args.local and args.stage not in (None, "local"):
        raise AppError("give --stage or --local, not both", code="ambiguous_stage")
    local_shell = os.environ.get("YQ_STAGE") == "local" and bool(os.environ.get("AWS_ENDPOINT_URL"))
    if args.local or args.stage == "local" or (args.stage is None and local_shell):
        os.environ["YQ_STAGE"] = "local"
        os.environ.setdefault("AWS_ENDPOINT_URL", LOCAL_ENDPOINT)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(key, "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", args.region or "ap-southeast-1")
        return
    if args.stage is None:
        raise AppError("which deployment? give --stage dev|prod (with --region) for AWS, or --local for the local "
                       "stack", code="no_stage")
    if os.environ.get("AWS_ENDPOINT_URL"):
        raise AppError(f"AWS_ENDPOINT_URL is set ({os.environ['AWS_ENDPOINT_URL']}), which would send --stage "
                       f"{args.stage} to an emulator: unset it, or use --local", code="endpoint_override")
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise AppError(f"which region is {args.stage} in? give --region (or set AWS_REGION)", code="no_region")
    os.environ.update({"YQ_STAGE": args.stage, "AWS_REGION": region, "AWS_DEFAULT_REGION": region})


def _aws_failure(err: Exception) -> str | None:
    """A sentence for an AWS failure the operator can fix (credentials, permissions, a stage not deployed)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
    from pynamodb.exceptions import PynamoDBException

    cause: BaseException | None = err
    while isinstance(cause, PynamoDBException) and cause.cause is not None:
        cause = cause.cause
    stage = os.environ.get("YQ_STAGE")
    if isinstance(cause, NoCredentialsError):
        return (f"no AWS credentials for stage {stage}: configure them (aws configure, AWS_PROFILE, or an SSO login) "
                "or use --local for the local stack")
    if isinstance(cause, NoRegionError):
        return "no AWS region: give --region"
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code", "")
        message = cause.response.get("Error", {}).get("Message", "")
        if code in ("ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return f"stage {stage} is not deployed in {os.environ.get('AWS_REGION')} ({code}: {message})"
        return f"AWS refused: {code}: {message}"
    if isinstance(cause, BotoCoreError):
        return f"AWS unreachable: {cause}"
    if isinstance(err, PynamoDBException):
        return f"DynamoDB: {err.msg}"
    return None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root.add_argument("--stage", choices=["dev", "prod", "local"], help="the deployment to work on")
    root.add_argument("--region", help="the AWS region the stage is deployed in")
    root.add_argument("--local", action="store_true", help="the local stack (make run) instead of AWS")
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
    create.add_argument("--corp-name", help="the corp's short name (企业简称) as its customers see it; WeCom has no API "
                        "that tells a self-built app its corp's name (default: learned by the first sync)")
    create.add_argument("--corp-full-name", help="the corp's full registered name (企业主体名称)")
    create.add_argument("--admin", metavar="USERID", help="the member (WeCom userid) who becomes the tenant's first admin")
    create.set_defaults(run=tenants_create)

    add_admin = tenant.add_parser("add-admin", help="make a member of the tenant's corp an admin")
    add_admin.add_argument("tenant_key")
    add_admin.add_argument("user_id")
    add_admin.set_defaults(run=tenants_add_admin)

    settings = tenant.add_parser("settings", help="show a tenant's settings, or change them with --set")
    settings.add_argument("tenant_key")
    settings.add_argument("--set", action="append", metavar="NAME=VALUE",
                          help="a setting to change (JSON value or plain text), e.g. autoSyncCustomers=false; repeatable")
    settings.set_defaults(run=tenants_settings)

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

    oa_callback = tenant.add_parser("official-account-callback",
                                    help="store the official account's callback token and EncodingAESKey")
    oa_callback.add_argument("tenant_key")
    oa_callback.add_argument("--secrets-file", required=True,
                             help="JSON with token and encoding_aes_key (as in the account's 服务器配置); '-' for stdin")
    oa_callback.set_defaults(run=tenants_official_account_callback)

    reindex = tenant.add_parser("index-member-items",
                                help="index every item under its owner and members (the chat toolbar's 本人的项目)")
    reindex.add_argument("tenant_key")
    reindex.set_defaults(run=tenants_index_member_items)

    from chalicelib.store.queues import QUEUES

    queue = groups.add_parser("queues", help="work queues").add_subparsers(dest="command", required=True)
    redrive = queue.add_parser("redrive", help="send a queue's dead letters back to it, once each")
    redrive.add_argument("queue", choices=[spec.logical_name for spec in QUEUES], help="the queue's logical name")
    redrive.add_argument("--max", type=int, help="redrive at most this many")
    redrive.set_defaults(run=queues_redrive)

    files = groups.add_parser("verification-files", help="WeCom/WeChat domain-verification files at the domain root")
    put = files.add_subparsers(dest="command", required=True).add_parser(
        "put", help="serve a WW_verify_*.txt or MP_verify_*.txt file (downloaded from the WeCom or WeChat console)")
    put.add_argument("file", help="the downloaded file; it is served under its own name")
    put.set_defaults(run=verification_files_put)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        select_deployment(args)
        args.run(args)
    except AppError as err:
        print(f"error: {err.message} ({err.code})", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except Exception as err:
        reason = _aws_failure(err)
        if reason is None:
            raise
        print(f"error: {reason}", file=sys.stderr)
        sys.exit(2)
