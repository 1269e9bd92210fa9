"""The one definition of Yunqiao's AWS resources, rendered per stage.

Tables come from the PynamoDB models (their keys, indexes and TTL attribute), queues from `QUEUES`, and the Lambda
functions, API and schedules from the Chalice app itself. `merge_template(stage)` is what `chalice package
--merge-template` merges into Chalice's SAM template for AWS — with each function's role (`infra.policy`), log group
and alarms (`infra.monitoring`), the custom domain and egress VPC (`infra.network`) and the template's parameters —
and `finalise` fixes what a merge cannot. The local stack creates the very same tables and queues from it in the
emulator (`infra.local`), so there is no second copy to drift.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib.core import config
from chalicelib.entries import API_FUNCTIONS, CATCH_ALL, function_of
from chalicelib.store.queues import QUEUES, QueueSpec
from chalicelib.store.tables import all_models
from infra import monitoring, network, policy

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_RUNTIME = "python3.12"
DEFAULT_TIMEOUT = 60
# Concurrent invocations each queue's consumer may reach: a burst of callbacks or a bulk run must not take the
# account's whole concurrency (the API would be throttled), and WeCom's per-corp limits bound useful parallelism.
MAX_CONCURRENCY = {"callbacks": 20, "profile-links": 10, "sync": 2, "notifications": 5, "followers": 2}
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "time": "$context.requestTime",
    "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "length": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "error": "$context.error.responseType",
}


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
    # Kept when the stack is deleted or a change would replace the table, but not when the stack's first create
    # fails: a retried first deploy would otherwise stop at the fixed table names the failed one left behind.
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
            "Properties": props}


def queue_ids(spec: QueueSpec) -> tuple[str, str]:
    """The logical ids of a work queue and its dead-letter queue."""
    queue_id = to_cfn_resource_name(spec.logical_name.replace("-", "_")) + "Queue"
    return queue_id, queue_id.removesuffix("Queue") + "DeadLetterQueue"


def _queue_resources(spec: QueueSpec, stage: str) -> dict:
    queue_id, dlq_id = queue_ids(spec)
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
        dlq_id + "Alarm": monitoring.dead_letter_alarm(stage, spec.logical_name, dlq_id, spec.max_receive_count),
        queue_id + "AgeAlarm": monitoring.queue_age_alarm(stage, spec.logical_name, queue_id),
    }


def function_ids(app: Any) -> dict[str, str]:
    """Every Lambda function of the app (Chalice's name → its logical id in Chalice's template)."""
    ids = {CATCH_ALL: "APIHandler"}
    ids.update({function: to_cfn_resource_name(function) for function in API_FUNCTIONS})
    ids.update({source.name: to_cfn_resource_name(source.name) for source in app.event_sources})
    unknown = set(ids) - set(policy.FUNCTIONS)
    if unknown:
        raise ValueError(f"functions without an entry in infra.policy.FUNCTIONS: {sorted(unknown)}")
    return ids


def _functions(stage: str, app: Any) -> dict:
    """Per function: its role, log group and alarms, and what Chalice cannot declare on it — the 3.12 runtime, active
    tracing, its own log group, the egress VPC, the public base URL and its queues' URLs, and on each SQS event source a dependency on
    its queue (`Fn::GetAtt`, not Chalice's `Fn::Sub` string: the mapping is created only after the queue),
    ReportBatchItemFailures and a maximum concurrency."""
    from chalice.app import SQSEventConfig

    resources: dict[str, Any] = {}
    for function, function_id in function_ids(app).items():
        log_group_id, role_id = f"{function_id}LogGroup", f"{function_id}Role"
        resources[log_group_id] = monitoring.log_group(monitoring.function_log_group_name(stage, function))
        resources[role_id] = policy.role(stage, function, log_group_id, network.HAS_EGRESS)
        props: dict[str, Any] = {
            "Runtime": LAMBDA_RUNTIME,
            "Tracing": "Active",
            "Role": {"Fn::GetAtt": [role_id, "Arn"]},
            "LoggingConfig": {"LogGroup": {"Ref": log_group_id}},
            "Environment": {"Variables": {"YQ_PUBLIC_BASE_URL": network.public_base_url(),
                                          **_queue_urls(policy.FUNCTIONS[function])}},
        }
        if policy.FUNCTIONS[function].calls_wecom:
            props["VpcConfig"] = network.vpc_config()
        resources[function_id] = {"Properties": props}
        if function in API_FUNCTIONS:
            resources.update(_api_function(stage, function, function_id, props))
        resources.update(monitoring.function_alarms(stage, function, function_id))
    specs = {spec.consumer: spec for spec in QUEUES}
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            function_id = to_cfn_resource_name(source.name)
            queue_id, _ = queue_ids(specs[source.name])
            resources[function_id]["Properties"]["Events"] = {f"{function_id}SqsEventSource": {"Properties": {
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": MAX_CONCURRENCY[specs[source.name].logical_name]},
            }}}
    return resources


def _api_function(stage: str, function: str, function_id: str, props: dict) -> dict:
    """A function of its own for one of the API's route families (`chalicelib.entries`), which Chalice does not know
    of: what Chalice declares for the API handler (the same code, settings and stage environment) with another entry
    module, `props` (what `_functions` gives every function), and API Gateway's permission to invoke it. `_api` sends
    the family's routes to it."""
    cfg = chalice_config()
    variables = {**cfg.get("environment_variables", {}), **cfg["stages"][stage].get("environment_variables", {}),
                 **props["Environment"]["Variables"]}
    return {
        function_id: {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": f"chalicelib.entries.{function}.app",
            "CodeUri": "./deployment.zip",
            "Architectures": ["x86_64"],
            "Timeout": function_setting(stage, CATCH_ALL, "lambda_timeout", DEFAULT_TIMEOUT),
            "MemorySize": function_setting(stage, CATCH_ALL, "lambda_memory_size", 128),
            **props,
            "Environment": {"Variables": variables},
        }},
        function_id + "InvokePermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "FunctionName": {"Ref": function_id},
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": ["arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestAPIId}/*",
                                      {"RestAPIId": {"Ref": "RestAPI"}}]},
        }},
    }


def _integrations(app: Any) -> dict:
    """The API's paths whose routes a function of their own serves, pointed at it (Chalice points every route at
    `APIHandler`; a merge replaces the integration's URI only)."""
    ids = function_ids(app)
    paths: dict[str, dict] = {}
    for path, methods in app.routes.items():
        for method, route in methods.items():
            function = function_of(route.view_function.__module__)
            if function != CATCH_ALL:
                uri = ("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                       f"${{{ids[function]}.Arn}}/invocations")
                paths.setdefault(path, {})[method.lower()] = {"x-amazon-apigateway-integration": {"uri": {"Fn::Sub": uri}}}
    return paths


def _queue_urls(access: policy.Access) -> dict[str, dict]:
    """The URLs (a queue's `Ref`) of the queues the function sends to, and of the one it consumes and its dead-letter
    queue: a cold function's first send then costs no GetQueueUrl round trip."""
    specs = {spec.logical_name: spec for spec in QUEUES}
    variables: dict[str, dict] = {}
    for name in sorted({*access.sends_to, *filter(None, [access.consumes])}):
        queue_id, dead_letter_id = queue_ids(specs[name])
        variables[config.queue_url_variable(name)] = {"Ref": queue_id}
        if name == access.consumes:
            variables[config.queue_url_variable(f"{name}-dlq")] = {"Ref": dead_letter_id}
    return variables


def data_resources(stage: str) -> dict:
    """The tables, queues and their alarms of a stage: what the local emulator gets too."""
    resources: dict[str, Any] = {}
    for model in all_models():
        resources[to_cfn_resource_name(model.Meta.logical_name) + "Table"] = _table_resource(model, stage)
    for spec in QUEUES:
        resources.update(_queue_resources(spec, stage))
    return {"Resources": resources}


def _gateway_error_responses() -> dict:
    """API Gateway's own refusals (no such route, throttled, too large) in our error shape, not its `{"message"}`.

    Declared inside the API's OpenAPI body, which Chalice generates: separate GatewayResponse resources would be
    dropped each time the body is imported again on an update."""
    body = '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
    return {kind: {"responseTemplates": {"application/json": body}} for kind in ("DEFAULT_4XX", "DEFAULT_5XX")}


def _api(stage: str, app: Any) -> dict:
    """The REST API's stage settings: name (its metrics' dimension), throttling, access logs, tracing; and which
    function serves which route."""
    return {"RestAPI": {"Properties": {
        "Name": monitoring.api_name(stage),
        "TracingEnabled": True,
        "MethodSettings": [{
            "ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"}, "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
        }],
        "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                             "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))},
        "DefinitionBody": {"x-amazon-apigateway-gateway-responses": _gateway_error_responses(),
                           "paths": _integrations(app)},
    }}}


def _parameters(stage: str) -> dict:
    return {
        **network.parameters(stage),
        **monitoring.parameters(stage),
        "ApiThrottleRate": {"Type": "Number", "Default": 200, "MinValue": 1,
                            "Description": "Requests per second the API accepts, steady (above: 429)"},
        "ApiThrottleBurst": {"Type": "Number", "Default": 400, "MinValue": 1,
                             "Description": "Requests the API accepts in a burst"},
    }


def finalise(template: dict) -> dict:
    """What a merge cannot do to Chalice's template (it merges dicts key by key): each SQS event source names its
    queue by `Fn::GetAtt` instead of Chalice's `Fn::Sub` string, so the mapping depends on the queue and is created
    only after it (on a first deploy, before, it would fail on a queue that does not exist yet)."""
    queue_of_consumer = {spec.consumer: queue_ids(spec)[0] for spec in QUEUES}
    for function_id, resource in template["Resources"].items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "SQS":
                handler = resource["Properties"]["Handler"].rsplit(".", 1)[-1]
                event["Properties"]["Queue"] = {"Fn::GetAtt": [queue_of_consumer[handler], "Arn"]}
    return template


def merge_template(stage: str, app: Any) -> dict:
    """The template `chalice package --merge-template` merges into Chalice's own."""
    template = data_resources(stage)
    resources = template["Resources"]
    resources.update(_functions(stage, app))
    resources.update(_api(stage, app))
    resources.update(monitoring.resources(stage))
    resources.update(network.resources(stage))
    template["Parameters"] = _parameters(stage)
    template["Conditions"] = {**network.conditions(), **monitoring.conditions()}
    template["Rules"] = network.rules()
    template["Outputs"] = network.outputs()
    return template
