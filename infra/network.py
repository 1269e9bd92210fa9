"""How WeCom reaches and trusts a stage: the custom domain that is its public base URL, and the optional fixed egress IP.

WeCom calls back to, and redirects OAuth to, a *trusted domain* that it verifies with a file at the domain root
(served by `chalicelib.handlers.verification`); the API's custom domain (a regional ACM certificate and, optionally,
the Route 53 zone to put its alias in) becomes the stage's `YQ_PUBLIC_BASE_URL`.

Self-built apps created after 2022-06 may only call WeCom from their *trusted IPs* (errcode 60020 otherwise). With
`StaticEgressIp=true` the WeCom-calling functions run in two private subnets whose traffic leaves through one NAT
gateway with an Elastic IP, output as `EgressIp` for the WeCom console. DynamoDB is reached through a gateway
endpoint (free, and no NAT traffic); SQS, Secrets Manager and WeCom through the NAT.
"""
from __future__ import annotations

HAS_DOMAIN = "HasDomain"
HAS_HOSTED_ZONE = "HasHostedZone"
HAS_EGRESS = "HasStaticEgressIp"
HAS_BASE_URL = "HasPublicBaseUrl"
PRIVATE_SUBNETS = ("PrivateSubnetA", "PrivateSubnetB")
SECURITY_GROUP = "FunctionSecurityGroup"
VPC_CIDR = "10.60.0.0/16"


def parameters(stage: str) -> dict:
    return {
        "DomainName": {"Type": "String", "Default": "",
                       "Description": "The stage's domain (WeCom's trusted domain), e.g. yq.your-company.cn; empty: none"},
        "CertificateArn": {"Type": "String", "Default": "",
                           "Description": "ACM certificate for DomainName, in the stack's region (required with it)"},
        "HostedZoneId": {"Type": "String", "Default": "",
                         "Description": "Route 53 zone to add DomainName's alias to; empty: add the DNS record yourself"},
        "PublicBaseUrl": {"Type": "String", "Default": "",
                          "Description": "Base URL of the pages when there is no DomainName (profile links refuse "
                                         "an empty or example.* one)"},
        "StaticEgressIp": {"Type": "String", "AllowedValues": ["true", "false"],
                           "Default": "true" if stage == "prod" else "false",
                           "Description": "Call WeCom from one Elastic IP (a VPC with a NAT gateway, billed hourly)"},
    }


def conditions() -> dict:
    return {
        HAS_DOMAIN: {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]},
        HAS_HOSTED_ZONE: {"Fn::And": [{"Condition": HAS_DOMAIN},
                                      {"Fn::Not": [{"Fn::Equals": [{"Ref": "HostedZoneId"}, ""]}]}]},
        HAS_EGRESS: {"Fn::Equals": [{"Ref": "StaticEgressIp"}, "true"]},
        HAS_BASE_URL: {"Fn::Or": [{"Condition": HAS_DOMAIN},
                                  {"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicBaseUrl"}, ""]}]}]},
    }


def rules() -> dict:
    return {
        "DomainNeedsCertificate": {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]},
            "Assertions": [{"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]},
                            "AssertDescription": "CertificateArn is required with DomainName"}],
        }
    }


def public_base_url() -> dict:
    """`YQ_PUBLIC_BASE_URL` of every function: the custom domain, else the PublicBaseUrl parameter."""
    return {"Fn::If": [HAS_DOMAIN, {"Fn::Sub": "https://${DomainName}"}, {"Ref": "PublicBaseUrl"}]}


def vpc_config() -> dict:
    return {"Fn::If": [HAS_EGRESS, {
        "SecurityGroupIds": [{"Ref": SECURITY_GROUP}],
        "SubnetIds": [{"Ref": subnet} for subnet in PRIVATE_SUBNETS],
    }, {"Ref": "AWS::NoValue"}]}


def _tagged(stage: str, name: str) -> list[dict]:
    return [{"Key": "Name", "Value": f"yunqiao-{stage}-{name}"}]


def _egress_resources(stage: str) -> dict:
    az = [{"Fn::Select": [index, {"Fn::GetAZs": ""}]} for index in (0, 1)]
    resources: dict = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": VPC_CIDR, "EnableDnsSupport": True, "EnableDnsHostnames": True, "Tags": _tagged(stage, "vpc")}},
        "InternetGateway": {"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": _tagged(stage, "igw")}},
        "InternetGatewayAttachment": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "InternetGateway"}}},
        "PublicSubnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.60.0.0/24", "AvailabilityZone": az[0],
            "Tags": _tagged(stage, "public")}},
        "PublicRouteTable": {"Type": "AWS::EC2::RouteTable", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "Tags": _tagged(stage, "public")}},
        "PublicDefaultRoute": {"Type": "AWS::EC2::Route", "DependsOn": "InternetGatewayAttachment", "Properties": {
            "RouteTableId": {"Ref": "PublicRouteTable"}, "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": {"Ref": "InternetGateway"}}},
        "PublicSubnetRoutes": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": {"Ref": "PublicSubnet"}, "RouteTableId": {"Ref": "PublicRouteTable"}}},
        # The IP WeCom's console lists as trusted: kept when the stack is deleted or the NAT gateway replaced.
        "EgressIp": {"Type": "AWS::EC2::EIP", "DependsOn": "InternetGatewayAttachment",
                     "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {"Domain": "vpc", "Tags": _tagged(stage, "egress")}},
        "NatGateway": {"Type": "AWS::EC2::NatGateway", "Properties": {
            "AllocationId": {"Fn::GetAtt": ["EgressIp", "AllocationId"]}, "SubnetId": {"Ref": "PublicSubnet"},
            "Tags": _tagged(stage, "nat")}},
        "PrivateRouteTable": {"Type": "AWS::EC2::RouteTable", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "Tags": _tagged(stage, "private")}},
        "PrivateDefaultRoute": {"Type": "AWS::EC2::Route", "Properties": {
            "RouteTableId": {"Ref": "PrivateRouteTable"}, "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": "NatGateway"}}},
        "DynamoDbEndpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "VpcEndpointType": "Gateway",
            "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"},
            "RouteTableIds": [{"Ref": "PrivateRouteTable"}]}},
        SECURITY_GROUP: {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "Yunqiao functions: no inbound, HTTPS out (WeCom and AWS APIs)",
            "VpcId": {"Ref": "Vpc"},
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0",
                                     "Description": "HTTPS to WeCom and the AWS APIs"}],
            "Tags": _tagged(stage, "functions")}},
    }
    for index, subnet in enumerate(PRIVATE_SUBNETS):
        resources[subnet] = {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "CidrBlock": f"10.60.{index + 1}.0/24", "AvailabilityZone": az[index],
            "Tags": _tagged(stage, f"private-{index + 1}")}}
        resources[f"{subnet}Routes"] = {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": {"Ref": subnet}, "RouteTableId": {"Ref": "PrivateRouteTable"}}}
    for resource in resources.values():
        resource["Condition"] = HAS_EGRESS
    return resources


def _domain_resources() -> dict:
    return {
        "ApiDomain": {"Type": "AWS::ApiGateway::DomainName", "Condition": HAS_DOMAIN, "Properties": {
            "DomainName": {"Ref": "DomainName"},
            "RegionalCertificateArn": {"Ref": "CertificateArn"},
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2"}},
        # At the domain's root: WeCom fetches https://<domain>/WW_verify_*.txt, pages live under /mobile/...
        "ApiDomainMapping": {"Type": "AWS::ApiGateway::BasePathMapping", "Condition": HAS_DOMAIN, "Properties": {
            "DomainName": {"Ref": "ApiDomain"}, "RestApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}},
        "ApiDomainRecord": {"Type": "AWS::Route53::RecordSet", "Condition": HAS_HOSTED_ZONE, "Properties": {
            "HostedZoneId": {"Ref": "HostedZoneId"}, "Name": {"Ref": "DomainName"}, "Type": "A",
            "AliasTarget": {"DNSName": {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]},
                            "HostedZoneId": {"Fn::GetAtt": ["ApiDomain", "RegionalHostedZoneId"]}}}},
    }


def resources(stage: str) -> dict:
    return {**_egress_resources(stage), **_domain_resources()}


def outputs() -> dict:
    return {
        "EgressIp": {"Condition": HAS_EGRESS, "Description": "Add to the WeCom app's trusted IPs (企业可信IP)",
                     "Value": {"Ref": "EgressIp"}},
        "PublicBaseUrl": {"Condition": HAS_BASE_URL, "Description": "The pages' and callbacks' base URL",
                          "Value": public_base_url()},
        "DomainTarget": {"Condition": HAS_DOMAIN,
                         "Description": "Point DomainName here (CNAME) when the zone is not in Route 53",
                         "Value": {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]}},
    }
