"""The least-privilege IAM policy of the Lambda functions, per stage.

Exactly the tables (and their indexes), queues and secrets this stage owns, and only the actions the code uses:
no Scan, no table management, no other stage's resources. `.chalice/policy-<stage>.json` is this document,
written by `python -m infra.build`; a test keeps the committed files equal to it.
"""
from __future__ import annotations

from chalicelib.core import config
from chalicelib.store.tables import all_models
from chalicelib.store.queues import QUEUES

TABLE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
]
QUEUE_ACTIONS = [
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]
SECRET_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"]


def iam_policy(stage: str) -> dict:
    tables = []
    for model in all_models():
        arn = f"arn:aws:dynamodb:*:*:table/{config.resource_name(model.Meta.logical_name, stage)}"
        tables += [arn, f"{arn}/index/*"]
    queues = []
    for spec in QUEUES:
        queues += [
            f"arn:aws:sqs:*:*:{config.resource_name(spec.logical_name, stage)}",
            f"arn:aws:sqs:*:*:{config.resource_name(spec.logical_name + '-dlq', stage)}",
        ]
    statements = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:*:*:log-group:/aws/lambda/{config.APP_NAME}-{stage}-*",
        },
        {"Sid": "Tables", "Effect": "Allow", "Action": TABLE_ACTIONS, "Resource": tables},
        {
            "Sid": "Secrets",
            "Effect": "Allow",
            "Action": SECRET_ACTIONS,
            "Resource": f"arn:aws:secretsmanager:*:*:secret:{config.APP_NAME}/{stage}/*",
        },
    ]
    if queues:
        statements.append({"Sid": "Queues", "Effect": "Allow", "Action": QUEUE_ACTIONS, "Resource": queues})
    return {"Version": "2012-10-17", "Statement": statements}
