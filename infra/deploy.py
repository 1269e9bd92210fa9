"""Deploy a stage to AWS: check every prerequisite first, then package, upload and deploy the stack.

    make deploy STAGE=prod REGION=ap-southeast-1 BUCKET=my-artifacts DOMAIN=yq.example-corp.cn \\
        CERT=arn:aws:acm:...:certificate/... [ZONE=Z123...] [ALARM_EMAIL=ops@...] [EGRESS=true|false]

is `python -m infra.deploy --stage prod --region ... --bucket ... --domain ... --certificate-arn ...`. Every problem
found up front is listed at once, before anything is built or changed. Then:

1. the account's API Gateway logging role, once per account and region (stack `yunqiao-apigateway-logs`), when
   API Gateway has none: the stage's access logs need it;
2. `python -m infra.build package --stage <stage>` (template and zip, docs in infra/build.py);
3. `aws cloudformation package` (uploads the zip to the bucket) and `aws cloudformation deploy` of stack
   `yunqiao-<stage>` (or `--stack-name`), with the parameters given;
4. the stack's outputs: the egress IP for WeCom's trusted IPs, the public base URL, the DNS target.

docs/deploy.md is the runbook around it.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from chalicelib.core.config import is_placeholder_url
from infra.build import ROOT, BuildError, find_python312, package

ACCOUNT_STACK = "yunqiao-apigateway-logs"


def api_gateway_account_template() -> dict:
    """The account-wide role API Gateway writes access logs with: one per account and region, shared by every stage,
    so it lives in a stack of its own rather than in a stage's (deleting dev must not stop prod's logs)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "API Gateway's CloudWatch Logs role for this account and region (Yunqiao access logs)",
        "Resources": {
            "ApiGatewayLogsRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]},
                "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                                  "AmazonAPIGatewayPushToCloudWatchLogs"}]}},
            "ApiGatewayAccount": {"Type": "AWS::ApiGateway::Account", "Properties": {
                "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}}},
        },
    }


class Aws:
    """The AWS CLI, in one region."""

    def __init__(self, region: str) -> None:
        self.region = region

    def run(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["aws", "--region", self.region, *args], capture_output=capture, text=True)

    def json(self, *args: str) -> dict | None:
        answer = self.run(*args, "--output", "json")
        return json.loads(answer.stdout or "{}") if answer.returncode == 0 else None


def problems(args: argparse.Namespace) -> list[str]:
    """Everything that would make the deploy fail or produce a stage WeCom cannot use, found before any change."""
    found: list[str] = []
    if not args.region:
        found.append("no region: give REGION=... (--region)")
    if not args.bucket:
        found.append("no artifact bucket: give BUCKET=... (an S3 bucket in the region, for the Lambda zip)")
    if args.domain and not args.certificate_arn:
        found.append("DOMAIN needs CERT=<ACM certificate ARN for it, in the same region>")
    if args.stage == "prod" and not args.domain:
        found.append("prod needs DOMAIN=... (WeCom's trusted domain: callbacks, OAuth and pages live on it)")
    base = f"https://{args.domain}" if args.domain else args.public_base_url
    if base and is_placeholder_url(base):
        found.append(f"{base} is a placeholder domain: profile links would lead nowhere")
    if args.stage == "prod" and find_python312() is None:
        found.append("no Python 3.12 to compile the package's bytecode: install it or set PYTHON312=...")
    if shutil.which("aws") is None:
        found.append("the AWS CLI (aws) is not installed: https://docs.aws.amazon.com/cli/latest/userguide/")
        return found
    if not args.region:
        return found
    aws = Aws(args.region)
    identity = aws.json("sts", "get-caller-identity")
    if identity is None:
        found.append("no usable AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE")
        return found
    print(f"… account {identity.get('Account')}, {args.region}, as {identity.get('Arn')}", file=sys.stderr)
    if args.bucket and aws.run("s3api", "head-bucket", "--bucket", args.bucket).returncode != 0:
        found.append(f"bucket {args.bucket} does not exist or is not yours: aws s3 mb s3://{args.bucket} "
                     f"--region {args.region}")
    if args.certificate_arn:
        certificate = aws.json("acm", "describe-certificate", "--certificate-arn", args.certificate_arn)
        status = (certificate or {}).get("Certificate", {}).get("Status")
        if status != "ISSUED":
            found.append(f"certificate {args.certificate_arn} is {status or 'not found in ' + args.region}: "
                         "it must be ISSUED, in the stack's region")
    return found


def _deploy_account_role(aws: Aws, out_dir: Path) -> None:
    account = aws.json("apigateway", "get-account") or {}
    if account.get("cloudwatchRoleArn"):
        return
    template = out_dir / "apigateway-account.json"
    template.write_text(json.dumps(api_gateway_account_template(), indent=2))
    print(f"… API Gateway has no logging role in {aws.region}: deploying stack {ACCOUNT_STACK}", file=sys.stderr)
    _check(aws.run("cloudformation", "deploy", "--template-file", str(template), "--stack-name", ACCOUNT_STACK,
                   "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset", capture=False))


def _check(answer: subprocess.CompletedProcess) -> None:
    if answer.returncode != 0:
        raise BuildError(f"{' '.join(answer.args[:5])} ... failed (exit {answer.returncode})"
                         + (f": {answer.stderr.strip()}" if answer.stderr else ""))


def parameter_overrides(args: argparse.Namespace) -> list[str]:
    values = {
        "DomainName": args.domain or "",
        "CertificateArn": args.certificate_arn or "",
        "HostedZoneId": args.hosted_zone_id or "",
        "PublicBaseUrl": args.public_base_url or "",
        "AlarmEmail": args.alarm_email or "",
    }
    if args.egress:
        values["StaticEgressIp"] = args.egress
    return [f"{key}={value}" for key, value in values.items()]


def deploy(args: argparse.Namespace) -> None:
    aws = Aws(args.region)
    out_dir = ROOT / "build" / args.stage
    _deploy_account_role(aws, out_dir.parent)
    sam = package(args.stage, out_dir)
    packaged = out_dir / "packaged.json"
    _check(aws.run("cloudformation", "package", "--template-file", str(sam), "--s3-bucket", args.bucket,
                   "--s3-prefix", f"yunqiao/{args.stage}", "--use-json", "--output-template-file", str(packaged)))
    stack = args.stack_name or f"yunqiao-{args.stage}"
    print(f"… deploying stack {stack}", file=sys.stderr)
    _check(aws.run("cloudformation", "deploy", "--template-file", str(packaged), "--stack-name", stack,
                   "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND", "--no-fail-on-empty-changeset",
                   "--parameter-overrides", *parameter_overrides(args), capture=False))
    outputs = aws.json("cloudformation", "describe-stacks", "--stack-name", stack,
                       "--query", "Stacks[0].Outputs") or []
    print(json.dumps({o["OutputKey"]: o["OutputValue"] for o in outputs}, indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=["dev", "prod"], required=True)
    parser.add_argument("--region")
    parser.add_argument("--bucket")
    parser.add_argument("--stack-name")
    parser.add_argument("--domain")
    parser.add_argument("--certificate-arn")
    parser.add_argument("--hosted-zone-id")
    parser.add_argument("--public-base-url")
    parser.add_argument("--alarm-email")
    parser.add_argument("--egress", choices=["true", "false"])
    args = parser.parse_args(argv)
    found = problems(args)
    if found:
        print(f"cannot deploy {args.stage}:", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(2)
    try:
        deploy(args)
    except BuildError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
