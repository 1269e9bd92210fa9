"""Each Lambda function's own IAM role: exactly the tables, queues, secrets and parameters that function touches.

One role per function, so that the public API handler and the schedules cannot do what only a queue consumer or
onboarding does:
- tenant secrets are readable by the functions that call WeCom or check callbacks, writable only by the callbacks
  consumer (a suite's create_auth onboards a tenant and stores its permanent code); the ops CLI onboards self-built
  tenants with the operator's own credentials;
- the invitation-signing key may only be *created* (never overwritten) by the API handler, on first use;
- a consumer receives from its own queue only; the schedules only read the tenants table and send to their queue;
- the messages between contacts and members are read and written by the API handler only (`OWN_TABLES`);
- no Scan, no table management, no other stage's resources.

ARNs are `Fn::Sub` strings on `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}`: the template deploys in
any partition (aws, aws-cn) and region, and grants nothing outside the stack's own account and region. Log
permissions name the functions' own log groups (see `infra.monitoring`), never a pattern built from a stack name.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core import config
from chalicelib.store.queues import QUEUES
from chalicelib.store.tables import all_models

READ_TABLE = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable"]
WRITE_TABLE = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]
SEND = ["sqs:SendMessage", "sqs:GetQueueUrl"]
CONSUME = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]
READ_SECRET = ["secretsmanager:GetSecretValue"]
WRITE_SECRET = ["secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"]
TRACING = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]  # X-Ray has no resource-level permissions
LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"]

ALL_TABLES = "*"
# Tables only some functions touch: left out of ALL_TABLES, granted by name to those (`Access.own_tables`).
OWN_TABLES = ("messages",)


@dataclass(frozen=True)
class Access:
    """What one function does with the stage's resources."""

    tables: str | tuple[str, ...] = ALL_TABLES  # the tables it reads: ALL_TABLES, or logical table names
    own_tables: tuple[str, ...] = ()  # with ALL_TABLES: which of OWN_TABLES it uses too
    writes_tables: bool | tuple[str, ...] = True  # True: those it reads; or the logical names of those it writes
    consumes: str | None = None  # the logical name of the queue it is the consumer of
    sends_to: tuple[str, ...] = ()  # logical names of the work queues it sends to
    reads_secrets: bool = False
    writes_tenant_secrets: bool = False
    creates_signing_key: bool = False
    reads_verification_files: bool = False
    calls_wecom: bool = False  # runs in the egress VPC when the stage has one (WeCom's trusted IP)


_WORK_QUEUES = tuple(spec.logical_name for spec in QUEUES)

FUNCTIONS: dict[str, Access] = {
    "api_handler": Access(sends_to=_WORK_QUEUES, reads_secrets=True, creates_signing_key=True,
                          reads_verification_files=True, calls_wecom=True, own_tables=("messages",)),
    # The API's route families with functions of their own (chalicelib.entries.API_FUNCTIONS). The public one signs
    # contacts in through WeCom/WeChat OAuth (tenant secrets), pages lists (the signing key behind cursors), tells an
    # item's owner of a reply (notifications) and serves the verification files.
    "api_public": Access(sends_to=("notifications",), reads_secrets=True, creates_signing_key=True,
                         reads_verification_files=True, calls_wecom=True),
    # WeCom's callback URLs: the tenant and its callback keys, the dedupe record, the callbacks queue; no WeCom call.
    "api_callbacks": Access(tables=("tenants", "callback-events"), writes_tables=("callback-events",),
                            sends_to=("callbacks",), reads_secrets=True),
    "process_callbacks": Access(consumes="callbacks", sends_to=_WORK_QUEUES, reads_secrets=True,
                                writes_tenant_secrets=True, calls_wecom=True),
    "process_profile_links": Access(consumes="profile-links", sends_to=_WORK_QUEUES, reads_secrets=True,
                                    calls_wecom=True),
    "process_sync": Access(consumes="sync", sends_to=_WORK_QUEUES, reads_secrets=True, calls_wecom=True),
    "process_notifications": Access(consumes="notifications", sends_to=_WORK_QUEUES, reads_secrets=True,
                                    calls_wecom=True),
    "schedule_sync": Access(tables="tenants", writes_tables=False, sends_to=("sync",)),
    "schedule_profile_links": Access(tables="tenants", writes_tables=False, sends_to=("profile-links",)),
    "process_followers": Access(consumes="followers", sends_to=("followers",), reads_secrets=True, calls_wecom=True),
    "schedule_followers": Access(sends_to=("followers",), reads_secrets=True),
}


def _arn(service: str, resource: str) -> dict:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"}


def table_arns(stage: str, logical: str | tuple[str, ...] = ALL_TABLES, own: tuple[str, ...] = ()) -> list[dict]:
    if logical == ALL_TABLES:
        names = [m.Meta.logical_name for m in all_models() if m.Meta.logical_name not in OWN_TABLES or
                 m.Meta.logical_name in own]
    else:
        names = [logical] if isinstance(logical, str) else list(logical)
    arns = []
    for name in names:
        table = f"table/{config.resource_name(name, stage)}"
        arns += [_arn("dynamodb", table), _arn("dynamodb", f"{table}/index/*")]
    return arns


def queue_arn(stage: str, logical: str) -> dict:
    return _arn("sqs", config.resource_name(logical, stage))


def secret_arn(stage: str, name: str) -> dict:
    """A secret by its name; Secrets Manager appends a random six-character suffix to every secret's ARN."""
    return _arn("secretsmanager", f"secret:{config.APP_NAME}/{stage}/{name}-??????")


def verification_parameter_arn(stage: str) -> dict:
    return _arn("ssm", f"parameter{config.verification_parameter_path(stage)}*")


def role_policy(stage: str, function: str, log_group_id: str) -> dict:
    """The inline policy of `function`'s role in `stage`; `log_group_id` is its log group's logical id."""
    access = FUNCTIONS[function]
    statements: list[dict] = [
        {"Sid": "Logs", "Effect": "Allow", "Action": LOGS,
         "Resource": [{"Fn::GetAtt": [log_group_id, "Arn"]}]},
        {"Sid": "Tracing", "Effect": "Allow", "Action": TRACING, "Resource": "*"},
        {"Sid": "ReadTables", "Effect": "Allow", "Action": READ_TABLE,
         "Resource": table_arns(stage, access.tables, access.own_tables)},
    ]
    if access.writes_tables:
        written = access.tables if access.writes_tables is True else access.writes_tables
        statements.append({"Sid": "WriteTables", "Effect": "Allow", "Action": WRITE_TABLE,
                           "Resource": table_arns(stage, written, access.own_tables)})
    if access.consumes:
        statements.append({"Sid": "ConsumeOwnQueue", "Effect": "Allow", "Action": CONSUME,
                           "Resource": [queue_arn(stage, access.consumes)]})
        # `chalicelib.handlers.sqs` moves a message it gives up on to the dead-letter queue itself, with its reason.
        statements.append({"Sid": "DeadLetter", "Effect": "Allow", "Action": SEND,
                           "Resource": [queue_arn(stage, access.consumes + "-dlq")]})
    if access.sends_to:
        statements.append({"Sid": "SendWork", "Effect": "Allow", "Action": SEND,
                           "Resource": [queue_arn(stage, name) for name in access.sends_to]})
    if access.reads_secrets:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": READ_SECRET, "Resource": [
            secret_arn(stage, "tenants/*"), secret_arn(stage, "suite"), secret_arn(stage, "invitation-signing")]})
    if access.writes_tenant_secrets:
        statements.append({"Sid": "OnboardTenants", "Effect": "Allow", "Action": WRITE_SECRET,
                           "Resource": [secret_arn(stage, "tenants/*")]})
    if access.creates_signing_key:
        statements.append({"Sid": "CreateSigningKey", "Effect": "Allow", "Action": ["secretsmanager:CreateSecret"],
                           "Resource": [secret_arn(stage, "invitation-signing")]})
    if access.reads_verification_files:
        statements.append({"Sid": "ReadVerificationFiles", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                           "Resource": [verification_parameter_arn(stage)]})
    return {"PolicyName": "access", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}


ENI = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


def role(stage: str, function: str, log_group_id: str, vpc_condition: str) -> dict:
    """The role resource. In a stage with VPC egress the WeCom-calling functions run in its private subnets, and
    Lambda creates their network interfaces with the function's role: the ENI actions (which take no resource-level
    restriction) are granted then, and only then."""
    policy = role_policy(stage, function, log_group_id)
    if FUNCTIONS[function].calls_wecom:
        policy["PolicyDocument"]["Statement"].append({"Fn::If": [
            vpc_condition,
            {"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": ENI, "Resource": "*"},
            {"Ref": "AWS::NoValue"},
        ]})
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            },
            "Policies": [policy],
        },
    }
