"""The infrastructure: packaged exactly as a deploy would be, linted, and checked resource by resource."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import build
from chalicelib.store.queues import QUEUES
from infra.policy import FUNCTIONS
from infra.resources import queue_visibility_timeout

STAGE = "dev"
DEPLOYED = ("dev", "prod")
# cfn-lint rules whose warnings are accepted, each with its reason; none today.
JUSTIFIED_WARNINGS: dict[str, str] = {}


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Both deployed stages, each packaged from scratch. The zip holds no stage (a stage's settings are the
    template's environment), so the two are also two independent builds of the same zip."""
    return {stage: build.package(stage, tmp_path_factory.mktemp(stage)) for stage in DEPLOYED}


@pytest.fixture(scope="module")
def template(packages):
    return json.loads(packages[STAGE].read_text())


def packaged_for_cloudformation(sam: Path) -> dict:
    """What `aws cloudformation package` uploads and CloudFormation's SAM transform makes of it."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    template = json.loads(sam.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deploy-bucket/deployment.zip"
    return transform(template, {}, NoManagedPolicies())


@pytest.fixture(scope="module")
def lint_findings(packages, tmp_path_factory) -> dict[str, list[tuple[str, str]]]:
    """cfn-lint's findings for every template we ship, by name: each stage's SAM template and what the SAM transform
    makes of it, and the account's API Gateway logging role. One cfn-lint process lints them all, since most of a
    run is loading its schemas."""
    from infra.deploy import api_gateway_account_template

    folder = tmp_path_factory.mktemp("lint")
    paths = {"account": folder / "account.json"}
    paths["account"].write_text(json.dumps(api_gateway_account_template()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
        for stage in DEPLOYED:
            paths[f"{stage} sam"] = packages[stage]
            paths[f"{stage} transformed"] = folder / f"{stage}-cloudformation.json"
            paths[f"{stage} transformed"].write_text(json.dumps(packaged_for_cloudformation(packages[stage])))
    answer = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--format", "json",
                             *map(str, paths.values())], capture_output=True, text=True)
    assert answer.returncode in (0, 2, 4, 6, 8, 10, 12, 14), answer.stderr
    findings: dict[str, list[tuple[str, str]]] = {name: [] for name in paths}
    names = {str(path): name for name, path in paths.items()}
    for finding in json.loads(answer.stdout or "[]"):
        findings[names[finding["Filename"]]].append((finding["Rule"]["Id"], finding["Message"]))
    return findings


@pytest.mark.parametrize("stage", DEPLOYED)
def test_cfn_lint_passes_on_the_sam_template_and_after_the_transform(lint_findings, stage):
    for template in (f"{stage} sam", f"{stage} transformed"):
        findings = lint_findings[template]
        assert [f for f in findings if f[0].startswith("E")] == []
        assert [f for f in findings if f[0] not in JUSTIFIED_WARNINGS] == []


def test_two_builds_make_the_same_zip_for_python_312_linux(packages):
    first, second = (packages[stage].parent / "deployment.zip" for stage in DEPLOYED)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    names = zipfile.ZipFile(first).namelist()
    assert "app.py" in names and "chalice/app.py" in names and "chalicelib/handlers/home.py" in names
    binaries = [name for name in names if name.endswith(".so")]
    assert binaries and all("x86_64-linux-gnu" in name or ".abi3." in name for name in binaries)
    assert not [name for name in names if "cpython-311" in name or "cp311" in name]
    compiled = {name for name in names if name.endswith(".pyc")}
    if build.find_python312():
        assert "chalicelib/handlers/__pycache__/home.cpython-312.pyc" in compiled
        assert "boto3/__pycache__/session.cpython-312.pyc" in compiled
    else:
        assert not compiled


def test_the_package_ships_botocore_data_for_the_services_the_code_calls(packages):
    """Every service the functions make a client for is in the package, and no other service's models."""
    names = zipfile.ZipFile(packages[STAGE].parent / "deployment.zip").namelist()
    shipped = {name.split("/")[2] for name in names if name.startswith("botocore/data/") and name.count("/") > 2}
    called = {"dynamodb"}  # PynamoDB
    for source in (build.ROOT / "chalicelib").rglob("*.py"):
        called |= set(re.findall(r'\bclient\("([a-z0-9-]+)"\)', source.read_text()))
    assert called <= shipped == set(build.AWS_SERVICES)
    assert {"botocore/data/endpoints.json", "botocore/data/partitions.json", "botocore/data/_retry.json",
            "botocore/data/sdk-default-configuration.json"} <= set(names)


def test_the_lock_pins_every_runtime_dependency_with_a_hash():
    lines = [line for line in build.LOCK.read_text().splitlines() if line and not line.startswith("#")]
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in lines}
    assert all(" --hash=sha256:" in line for line in lines)
    direct = [line.split("==")[0].lower() for line in (build.ROOT / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert set(direct) <= pinned and {"botocore", "urllib3"} <= pinned


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


def _statements(role: dict) -> list[dict]:
    found = []
    for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
        if "Fn::If" in statement:
            statement = statement["Fn::If"][1]
        found.append(statement)
    return found


def _allowed(role: dict, action: str) -> list:
    return [resource for s in _statements(role) if action in s["Action"]
            for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]


def test_each_function_has_its_own_least_privilege_role(template):
    functions = resources_of(template, "AWS::Serverless::Function")
    roles = {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert len(functions) == len(FUNCTIONS)
    for props in functions.values():
        role_id = props["Role"]["Fn::GetAtt"][0]
        assert role_id in roles
        for statement in _statements(roles[role_id]):
            assert "dynamodb:Scan" not in statement["Action"] and "*" not in statement["Action"]
            for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
                if resource == "*":
                    assert all(action.startswith(("xray:", "ec2:")) for action in statement["Action"])
                elif "Fn::Sub" in resource:
                    arn = resource["Fn::Sub"]
                    assert arn.startswith("arn:${AWS::Partition}:") and "${AWS::AccountId}" in arn
                    assert f"yunqiao-{STAGE}-" in arn or f"yunqiao/{STAGE}/" in arn
                else:
                    assert resource == {"Fn::GetAtt": [role_id.removesuffix("Role") + "LogGroup", "Arn"]}
    api, callbacks, schedule = roles["APIHandlerRole"], roles["ProcessCallbacksRole"], roles["ScheduleSyncRole"]
    writers = [name for name, role in roles.items() if _allowed(role, "secretsmanager:PutSecretValue")]
    assert writers == ["ProcessCallbacksRole"]
    assert [r["Fn::Sub"] for r in _allowed(callbacks, "secretsmanager:PutSecretValue")] == [
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:yunqiao/dev/tenants/*-??????"]
    assert [r["Fn::Sub"].rsplit(":", 1)[1] for r in _allowed(api, "secretsmanager:CreateSecret")] == [
        "yunqiao/dev/invitation-signing-??????"]
    assert _allowed(api, "secretsmanager:GetSecretValue") and not _allowed(schedule, "secretsmanager:GetSecretValue")
    assert not _allowed(api, "sqs:ReceiveMessage") and not _allowed(schedule, "dynamodb:PutItem")
    assert [r["Fn::Sub"].rsplit(":", 1)[1] for r in _allowed(callbacks, "sqs:ReceiveMessage")] == ["yunqiao-dev-callbacks"]
    # The messages between contacts and members: the API handler only.
    messages = "table/yunqiao-dev-messages"
    reaching = sorted(name for name, role in roles.items()
                      if any(r["Fn::Sub"].endswith(messages) for r in _allowed(role, "dynamodb:PutItem")))
    assert reaching == ["APIHandlerRole"]


def test_every_function_logs_to_its_own_retained_log_group_and_is_alarmed(template):
    resources = template["Resources"]
    topic = {"Ref": "AlarmTopic"}
    for function_id, props in resources_of(template, "AWS::Serverless::Function").items():
        group = resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert props["Tracing"] == "Active"
        for metric in ("Errors", "Throttles"):
            alarm = resources[f"{function_id}{metric}Alarm"]["Properties"]
            assert alarm["MetricName"] == metric and alarm["AlarmActions"] == [topic]
    alarms = resources_of(template, "AWS::CloudWatch::Alarm").values()
    assert {a["MetricName"] for a in alarms} == {"Errors", "Throttles", "5XXError", "ApproximateAgeOfOldestMessage",
                                                 "ApproximateNumberOfMessagesVisible"}
    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms)
    assert resources["AlarmEmailSubscription"]["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_tables_are_kept_but_a_failed_first_create_can_be_retried(template):
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
            assert resource["UpdateReplacePolicy"] == "Retain"


def test_event_source_mappings_depend_on_their_queues_and_are_bounded(template):
    for props in resources_of(template, "AWS::Serverless::Function").values():
        for event in props.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                assert template["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
                assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_each_function_is_given_the_urls_of_the_queues_it_uses(template):
    """A cold function's first send needs no GetQueueUrl: the template hands it the URLs (a queue's `Ref`)."""
    functions = resources_of(template, "AWS::Serverless::Function")
    api = functions["APIHandler"]["Environment"]["Variables"]
    assert api["YQ_QUEUE_URL_CALLBACKS"] == {"Ref": "CallbacksQueue"}
    assert api["YQ_QUEUE_URL_PROFILE_LINKS"] == {"Ref": "ProfileLinksQueue"}
    assert "YQ_QUEUE_URL_CALLBACKS_DLQ" not in api
    consumer = functions["ProcessCallbacks"]["Environment"]["Variables"]
    assert consumer["YQ_QUEUE_URL_CALLBACKS_DLQ"] == {"Ref": "CallbacksDeadLetterQueue"}
    schedule = functions["ScheduleSync"]["Environment"]["Variables"]
    assert [name for name in schedule if name.startswith("YQ_QUEUE_URL_")] == ["YQ_QUEUE_URL_SYNC"]
    for variables in (api, consumer, schedule):
        for name, value in variables.items():
            if name.startswith("YQ_QUEUE_URL_"):
                assert template["Resources"][value["Ref"]]["Type"] == "AWS::SQS::Queue"


def test_the_api_is_regional_throttled_logged_traced_and_on_the_custom_domain(template):
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["TracingEnabled"] is True and api["AccessLogSetting"]["DestinationArn"]
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
    mapping = template["Resources"]["ApiDomainMapping"]
    assert mapping["Condition"] == "HasDomain" and mapping["Properties"]["RestApiId"] == {"Ref": "RestAPI"}
    for props in resources_of(template, "AWS::Serverless::Function").values():
        assert props["Environment"]["Variables"]["YQ_PUBLIC_BASE_URL"]["Fn::If"][0] == "HasDomain"


def test_the_egress_ip_is_optional_and_an_output(template):
    resources = template["Resources"]
    assert resources["EgressIp"]["Condition"] == "HasStaticEgressIp"
    assert template["Outputs"]["EgressIp"]["Value"] == {"Ref": "EgressIp"}
    assert resources["NatGateway"]["Properties"]["AllocationId"] == {"Fn::GetAtt": ["EgressIp", "AllocationId"]}
    in_vpc = [name for name, props in resources_of(template, "AWS::Serverless::Function").items() if "VpcConfig" in props]
    assert "APIHandler" in in_vpc and "ScheduleSync" not in in_vpc


def test_each_route_family_goes_to_its_own_function_with_its_own_narrow_role(template):
    """chalicelib.entries: the public routes and WeCom's callback URLs are served by functions of their own (a cold
    start imports only their family), everything else by the API handler; API Gateway may invoke each."""
    from chalicelib.entries import API_FUNCTIONS

    resources = template["Resources"]
    functions = resources_of(template, "AWS::Serverless::Function")
    served: dict[tuple[str, str], str] = {}
    for path, methods in resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"].items():
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            served[(path, method)] = re.search(r"\$\{(\w+)\.Arn\}", uri)[1]
    assert served[("/api/external/home", "get")] == "ApiPublic"
    assert served[("/mobile/wechat/external/home", "get")] == "ApiPublic"
    assert served[("/wecom/callback/{tenantKey}", "post")] == "ApiCallbacks"
    assert served[("/wecom/suite/{suiteId}/callback", "get")] == "ApiCallbacks"
    assert served[("/api/admin/tenants/{tenantKey}/sync", "post")] == "APIHandler"
    assert set(served.values()) == {"APIHandler", "ApiPublic", "ApiCallbacks"}
    for function in API_FUNCTIONS:
        function_id = "".join(part.capitalize() for part in function.split("_"))
        assert functions[function_id]["Handler"] == f"chalicelib.entries.{function}.app"
        assert functions[function_id]["CodeUri"] == functions["APIHandler"]["CodeUri"]
        assert functions[function_id]["Timeout"] == functions["APIHandler"]["Timeout"]
        assert resources[f"{function_id}InvokePermission"]["Properties"]["FunctionName"] == {"Ref": function_id}
    role = resources["ApiCallbacksRole"]
    assert [r["Fn::Sub"].rsplit("/", 1)[1] for r in _allowed(role, "dynamodb:PutItem")] == ["yunqiao-dev-callback-events",
                                                                                           "*"]
    assert [r["Fn::Sub"].rsplit(":", 1)[1] for r in _allowed(role, "sqs:SendMessage")] == ["yunqiao-dev-callbacks"]
    assert not _allowed(role, "secretsmanager:CreateSecret") and "VpcConfig" not in functions["ApiCallbacks"]
    assert [r["Fn::Sub"].rsplit(":", 1)[1] for r in _allowed(resources["ApiPublicRole"], "sqs:SendMessage")] == [
        "yunqiao-dev-notifications"]


def test_api_gateways_own_errors_answer_in_our_error_shape(template):
    assert not resources_of(template, "AWS::ApiGateway::GatewayResponse")
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses.values():
        assert response["responseTemplates"]["application/json"].startswith('{"error": {"code": ')


def test_deploy_lists_every_missing_prerequisite_before_changing_anything(tmp_path):
    import os

    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # no aws CLI on PATH
    answer = subprocess.run([sys.executable, "-m", "infra.deploy", "--stage", "prod", "--region", "ap-southeast-1",
                             "--domain", "yunqiao.example.com"], cwd=build.ROOT, env={**env, "PYTHONPATH": str(build.ROOT),
                             "PYTHON312": os.environ.get("PYTHON312", "")}, capture_output=True, text=True)
    assert answer.returncode == 2 and "Traceback" not in answer.stderr
    assert "cannot deploy prod:" in answer.stderr
    assert "no artifact bucket" in answer.stderr
    assert "DOMAIN needs CERT=" in answer.stderr
    assert "https://yunqiao.example.com is a placeholder domain" in answer.stderr
    assert "the AWS CLI (aws) is not installed" in answer.stderr
    assert not (build.ROOT / "build" / "prod" / "packaged.json").exists()


def test_the_api_gateway_logging_role_template_is_lint_clean(lint_findings):
    assert lint_findings["account"] == []
