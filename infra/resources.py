"""The one definition of Yunqiao's AWS resources, rendered per stage.

Tables come from the PynamoDB models (their keys, indexes and TTL attribute), queues from `QUEUES` below, and the
Lambda functions, API and schedules from the Chalice app itself. `merge_template(stage)` is what `chalice package
--merge-template` merges into Chalice's SAM template for AWS; the local stack creates the very same tables and
queues from it in the emulator (`infra.local`), so there is no second copy to drift.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib import config
from chalicelib.store.queues import QUEUES, QueueSpec
from chalicelib.store.tables import all_models

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_RUNTIME = "python3.12"
DEFAULT_TIMEOUT = 60


def chalice_config() -> dict:
    return json.loads((ROOT / ".chalice" / "config.json").read_text())


def function_setting(stage: str, function: str, key: str, default: Any) -> Any:
    """A Chalice setting as Chalice resolves it: per function in the stage, then the stage, then the top level."""
    cfg = chalice_config()
    stage_cfg = cfg["stages"][stage]
    for scope in (stage_cfg.get("lambda_functions", {}).get(function, {}), stage_cfg, cfg):
        if key in scope:
            return scope[key]
    return default


def queue_visibility_timeout(stage: str, spec: QueueSpec) -> int:
    """Six times the consumer's timeout (AWS's advice): a message is never redelivered while still being worked on.
    A consumer that holds its messages itself (`hold_seconds`, renewed while it runs) gets the consumer's timeout, the
    least Lambda accepts: the queue's value then covers only the moment before the consumer's first hold."""
    timeout = int(function_setting(stage, spec.consumer, "lambda_timeout", DEFAULT_TIMEOUT))
    return timeout if spec.hold_seconds else 6 * timeout


def _hash_first(key_schema: list[dict]) -> list[dict]:
    """DynamoDB wants the HASH element before the RANGE element; PynamoDB lists them in declaration order."""
    return sorted(key_schema, key=lambda element: element["KeyType"] != "HASH")


def _table_resource(model: Any, stage: str) -> dict:
    schema = model._get_schema()
    props: dict[str, Any] = {
        "TableName": config.resource_name(model.Meta.logical_name, stage),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _hash_first(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": stage == "prod",
    }
    indexes = [
        {"IndexName": gsi["index_name"], "KeySchema": _hash_first(gsi["key_schema"]), "Projection": gsi["projection"]}
        for gsi in schema["global_secondary_indexes"]
    ]
    if indexes:
        props["GlobalSecondaryIndexes"] = indexes
    ttl = model._ttl_attribute()
    if ttl is not None:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": props}


def _queue_resources(spec: QueueSpec, stage: str) -> dict:
    queue_id = to_cfn_resource_name(spec.logical_name.replace("-", "_")) + "Queue"
    dlq_id = queue_id.removesuffix("Queue") + "DeadLetterQueue"
    return {
        dlq_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": config.resource_name(f"{spec.logical_name}-dlq", stage),
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        },
        queue_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": config.resource_name(spec.logical_name, stage),
                "VisibilityTimeout": queue_visibility_timeout(stage, spec),
                "MessageRetentionPeriod": 345600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                    "maxReceiveCount": spec.max_receive_count,
                },
            },
        },
        dlq_id + "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": config.resource_name(f"{spec.logical_name}-dead-letters", stage),
                "AlarmDescription": f"Messages of {spec.logical_name} failed {spec.max_receive_count} times",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        },
    }


def _function_patches(app: Any) -> dict:
    """What Chalice cannot declare: the 3.12 runtime and ReportBatchItemFailures on each SQS event source."""
    from chalice.app import SQSEventConfig

    patches: dict[str, Any] = {}
    for name in _function_names(app):
        patches[to_cfn_resource_name(name)] = {"Properties": {"Runtime": LAMBDA_RUNTIME}}
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            function_id = to_cfn_resource_name(source.name)
            patches[function_id]["Properties"]["Events"] = {
                f"{function_id}SqsEventSource": {"Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}}
            }
    patches["APIHandler"] = {"Properties": {"Runtime": LAMBDA_RUNTIME}}
    return patches


def _function_names(app: Any) -> list[str]:
    return [source.name for source in app.event_sources]


def data_resources(stage: str) -> dict:
    """The tables, queues and alarms of a stage: what the local emulator gets too."""
    resources: dict[str, Any] = {}
    for model in all_models():
        resources[to_cfn_resource_name(model.Meta.logical_name) + "Table"] = _table_resource(model, stage)
    for spec in QUEUES:
        resources.update(_queue_resources(spec, stage))
    return {"Resources": resources}


def _gateway_error_responses() -> dict:
    """API Gateway's own refusals (no such route, throttled, too large) in our error shape, not its `{"message"}`."""
    body = '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
    return {
        f"Gateway{kind.title().replace('_', '')}Response": {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {
                "RestApiId": {"Ref": "RestAPI"},
                "ResponseType": kind,
                "ResponseTemplates": {"application/json": body},
            },
        }
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX")
    }


def merge_template(stage: str, app: Any) -> dict:
    """The template `chalice package --merge-template` merges into Chalice's own."""
    template = data_resources(stage)
    template["Resources"].update(_function_patches(app))
    template["Resources"].update(_gateway_error_responses())
    return template
