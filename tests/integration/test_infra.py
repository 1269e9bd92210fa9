"""The infrastructure: packaged with Chalice exactly as a deploy would be, and checked resource by resource."""
from __future__ import annotations

import json

import pytest

from infra import build
from chalicelib.store.queues import QUEUES
from infra.resources import queue_visibility_timeout

STAGE = "dev"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    sam = build.package(STAGE, tmp_path_factory.mktemp("infra"))
    return json.loads(sam.read_text())


def resources_of(template, kind):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def test_every_table_is_on_demand_encrypted_recoverable_and_named_for_the_stage(template):
    from chalicelib.store.tables import all_models

    tables = resources_of(template, "AWS::DynamoDB::Table")
    assert {props["TableName"] for props in tables.values()} == {
        f"yunqiao-{STAGE}-{model.Meta.logical_name}" for model in all_models()
    }
    for props in tables.values():
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert [element["KeyType"] for element in props["KeySchema"]] in (["HASH"], ["HASH", "RANGE"])
        for gsi in props.get("GlobalSecondaryIndexes", []):
            assert gsi["KeySchema"][0]["KeyType"] == "HASH"


def test_tables_carry_their_indexes_and_ttl(template):
    from chalicelib.store.tables import all_models

    tables = {p["TableName"]: p for p in resources_of(template, "AWS::DynamoDB::Table").values()}
    for model in all_models():
        props = tables[f"yunqiao-{STAGE}-{model.Meta.logical_name}"]
        expected_indexes = {index.Meta.index_name for index in model._indexes.values()}
        assert {gsi["IndexName"] for gsi in props.get("GlobalSecondaryIndexes", [])} == expected_indexes
        ttl = model._ttl_attribute()
        if ttl is not None:
            assert props["TimeToLiveSpecification"] == {"AttributeName": ttl.attr_name, "Enabled": True}
    assert {gsi["IndexName"] for gsi in tables[f"yunqiao-{STAGE}-tenants"]["GlobalSecondaryIndexes"]} == {"byCorp", "byMode"}


def test_every_queue_has_a_dead_letter_queue_and_outlives_its_consumer(template):
    queues = {p["QueueName"]: p for p in resources_of(template, "AWS::SQS::Queue").values()}
    functions = resources_of(template, "AWS::Serverless::Function")
    assert len(queues) == 2 * len(QUEUES)
    for spec in QUEUES:
        queue = queues[f"yunqiao-{STAGE}-{spec.logical_name}"]
        dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert template["Resources"][dlq_id]["Properties"]["QueueName"] == f"yunqiao-{STAGE}-{spec.logical_name}-dlq"
        assert queue["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
        consumer = next(f for f in functions.values() if f["Handler"].endswith("." + spec.consumer))
        assert queue["VisibilityTimeout"] == queue_visibility_timeout(STAGE, spec) >= consumer["Timeout"]


def test_every_sqs_event_source_reports_batch_item_failures(template):
    sources = [
        event["Properties"]
        for function in resources_of(template, "AWS::Serverless::Function").values()
        for event in function.get("Events", {}).values()
        if event["Type"] == "SQS"
    ]
    assert len(sources) == len(QUEUES)
    for source in sources:
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_functions_run_python_312_with_their_configured_timeouts(template):
    functions = resources_of(template, "AWS::Serverless::Function")
    assert functions["APIHandler"]["Timeout"] == 10
    for props in functions.values():
        assert props["Runtime"] == "python3.12"
        assert props["Environment"]["Variables"]["YQ_STAGE"] == STAGE


def test_roles_grant_only_the_stages_resources_and_never_scan(template):
    for role in resources_of(template, "AWS::IAM::Role").values():
        for policy in role["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                assert "*" not in actions and "dynamodb:*" not in actions and "dynamodb:Scan" not in actions
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for resource in resources:
                    assert resource != "*"
                    assert f"yunqiao-{STAGE}-" in resource or f"yunqiao/{STAGE}/" in resource


@pytest.mark.parametrize("stage", build.STAGES)
def test_committed_policy_files_are_the_generated_ones(stage):
    assert build.policy_path(stage).read_text() == build.render_policy(stage)


def test_api_gateways_own_errors_answer_in_our_error_shape(template):
    responses = resources_of(template, "AWS::ApiGateway::GatewayResponse")
    assert {props["ResponseType"] for props in responses.values()} == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for props in responses.values():
        assert props["RestApiId"] == {"Ref": "RestAPI"}
        assert props["ResponseTemplates"]["application/json"].startswith('{"error": {"code": ')
