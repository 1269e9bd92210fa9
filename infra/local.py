"""Create a stage's tables and queues in the local emulator from the same template AWS gets.

Reads `merge_template(stage)` and applies each AWS::DynamoDB::Table and AWS::SQS::Queue through the ordinary APIs;
idempotent, so the local stack and every test session can call it on an emulator that may already hold them.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from chalicelib.core.aws import client

_TABLE_KEYS = ("TableName", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


def create_resources(template: dict, progress: Callable[[str], None] = lambda _msg: None) -> None:
    resources = template["Resources"]
    queue_arns: dict[str, str] = {}
    ordered = sorted(resources.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    for logical_id, resource in ordered:
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            _create_table(props)
            progress(f"table {props['TableName']}")
        elif kind == "AWS::SQS::Queue":
            queue_arns[logical_id] = _create_queue(props, queue_arns)
            progress(f"queue {props['QueueName']}")


def _create_table(props: dict) -> None:
    ddb = client("dynamodb")
    try:
        ddb.create_table(**{key: props[key] for key in _TABLE_KEYS if key in props})
    except ddb.exceptions.ResourceInUseException:
        return
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)


def _create_queue(props: dict, queue_arns: dict[str, str]) -> str:
    sqs = client("sqs")
    attributes: dict[str, str] = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
        if key in props:
            attributes[key] = str(props[key])
    redrive = props.get("RedrivePolicy")
    if redrive:
        target: Any = redrive["deadLetterTargetArn"]
        arn = queue_arns[target["Fn::GetAtt"][0]] if isinstance(target, dict) else target
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": redrive["maxReceiveCount"]})
    url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
