"""What tells an operator that a stage is unwell: log groups with retention, and alarms to one SNS topic.

Alarms: a dead letter in any DLQ; any function error or throttle; API Gateway 5xx answers; work waiting too long in
a queue. They notify the `AlarmTopic`, which the `AlarmEmail` parameter subscribes an address to (confirm the
e-mail AWS sends). Missing data is "not breaching": a quiet stage is a healthy one.
"""
from __future__ import annotations

from chalicelib.core import config

TOPIC = "AlarmTopic"
# Seconds the oldest message of a queue may wait before someone should look. Profile links are paced with delays of
# up to 15 minutes by design; a sync run continues in follow-up messages every few minutes.
OLDEST_MESSAGE_SECONDS = {"callbacks": 600, "profile-links": 3600, "sync": 3600, "notifications": 900,
                          "followers": 3600}


def parameters(stage: str) -> dict:
    return {
        "AlarmEmail": {"Type": "String", "Default": "",
                       "Description": "Address the alarms are e-mailed to (confirm AWS's e-mail); empty: none"},
        "LogRetentionDays": {"Type": "Number", "Default": 365 if stage == "prod" else 30,
                             "AllowedValues": [7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653]},
    }


def conditions() -> dict:
    return {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}}


def log_group(name: str) -> dict:
    return {"Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": name, "RetentionInDays": {"Ref": "LogRetentionDays"}}}


def function_log_group_name(stage: str, function: str) -> str:
    """Named for the stage and function, not the stack: the functions log there through their LoggingConfig."""
    return f"/{config.APP_NAME}/{stage}/lambda/{function}"


def api_name(stage: str) -> str:
    """The REST API's name, which is also the `ApiName` dimension of its metrics."""
    return config.resource_name("api", stage)


def _alarm(stage: str, name: str, description: str, namespace: str, metric: str, dimensions: list[dict],
           *, statistic: str = "Sum", threshold: float = 0, period: int = 300) -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": config.resource_name(name, stage),
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": TOPIC}],
            "OKActions": [{"Ref": TOPIC}],
        },
    }


def dead_letter_alarm(stage: str, logical_name: str, dlq_id: str, max_receive_count: int) -> dict:
    return _alarm(stage, f"{logical_name}-dead-letters",
                  f"Messages of {logical_name} failed {max_receive_count} times or for good: see their reason "
                  f"attributes, fix, then `python -m ops --stage {stage} queues redrive {logical_name}`",
                  "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                  [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}], statistic="Maximum")


def queue_age_alarm(stage: str, logical_name: str, queue_id: str) -> dict:
    seconds = OLDEST_MESSAGE_SECONDS[logical_name]
    return _alarm(stage, f"{logical_name}-waiting", f"A {logical_name} message has waited over {seconds} s",
                  "AWS/SQS", "ApproximateAgeOfOldestMessage",
                  [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
                  statistic="Maximum", threshold=seconds)


def function_alarms(stage: str, function: str, function_id: str) -> dict:
    dimensions = [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    slug = function.replace("_", "-")
    return {
        f"{function_id}ErrorsAlarm": _alarm(stage, f"{slug}-errors", f"{function} failed (an unhandled error)",
                                            "AWS/Lambda", "Errors", dimensions),
        f"{function_id}ThrottlesAlarm": _alarm(stage, f"{slug}-throttles", f"{function} was throttled",
                                               "AWS/Lambda", "Throttles", dimensions),
    }


def resources(stage: str) -> dict:
    resources: dict = {
        TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": f"Yunqiao {stage} alarms"}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail", "Properties": {
            "TopicArn": {"Ref": TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}},
        "ApiAccessLogGroup": log_group(f"/{config.APP_NAME}/{stage}/api-access"),
        "Api5xxAlarm": _alarm(stage, "api-5xx", "The API answered 5xx (our errors or API Gateway's)",
                              "AWS/ApiGateway", "5XXError",
                              [{"Name": "ApiName", "Value": api_name(stage)}, {"Name": "Stage", "Value": "api"}]),
    }
    return resources
