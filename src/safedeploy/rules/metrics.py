"""What AWS publishes in the CloudWatch namespaces gate alarms read: metric names and dimension names,
each namespace with the documentation it comes from. CloudWatch returns a series only for a metric
name and the exact set of dimensions a service publishes; an alarm on anything else never gets data.

`complete` says whether the source lists every metric of the namespace: then a name outside the list
is proven wrong; otherwise only a near miss of a listed name is (a name merely unknown here is
reported as not verified). Dimension names are checked only where `dimensions` is given.
"""

from __future__ import annotations

from dataclasses import dataclass

# What Lambda publishes in AWS/Lambda (Lambda developer guide, "Types of metrics for Lambda functions"),
# and its only dimensions; CloudWatch returns a series only for the exact dimension set published.
LAMBDA_METRICS = {
    "Invocations", "Errors", "DeadLetterErrors", "DestinationDeliveryFailures", "Throttles",
    "OversizedRecordCount", "ProvisionedConcurrencyInvocations", "ProvisionedConcurrencySpilloverInvocations",
    "RecursiveInvocationsDropped", "Duration", "PostRuntimeExtensionsDuration", "IteratorAge", "OffsetLag",
    "ConcurrentExecutions", "ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization",
    "UnreservedConcurrentExecutions", "ClaimedAccountConcurrency", "AsyncEventsReceived", "AsyncEventAge",
    "AsyncEventsDropped", "PolledEventCount", "InvokedEventCount", "FilteredOutEventCount",
    "FailedInvokeEventCount", "DeletedEventCount", "DroppedEventCount",
    "OnFailureDestinationDeliveredEventCount",
}  # fmt: skip
LAMBDA_DIMENSIONS = {"FunctionName", "Resource", "ExecutedVersion", "EventSourceMappingUUID"}


# REST APIs (dimension ApiName), HTTP and WebSocket APIs (ApiId) publish into the one namespace.
REST_API_METRICS = {
    "4XXError", "5XXError", "CacheHitCount", "CacheMissCount", "Count", "IntegrationLatency", "Latency",
}  # fmt: skip
HTTP_API_METRICS = {"4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed"}
WEBSOCKET_API_METRICS = {
    "ConnectCount", "MessageCount", "IntegrationError", "ClientError", "ExecutionError", "IntegrationLatency",
}  # fmt: skip
STATES_METRICS = {
    "ExecutionTime", "ExecutionThrottled", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted",
    "ExecutionsSucceeded", "ExecutionsStarted", "ExecutionsRedriven", "RedriveCount",
    "ActivityRunTime", "ActivityScheduleTime", "ActivityTime", "ActivitiesFailed",
    "ActivitiesHeartbeatTimedOut", "ActivitiesTimedOut", "ActivitiesScheduled", "ActivitiesSucceeded",
    "ActivitiesStarted",
    "LambdaFunctionRunTime", "LambdaFunctionScheduleTime", "LambdaFunctionTime", "LambdaFunctionsFailed",
    "LambdaFunctionsTimedOut", "LambdaFunctionsScheduled", "LambdaFunctionsSucceeded",
    "LambdaFunctionsStarted",
    "ServiceIntegrationRunTime", "ServiceIntegrationScheduleTime", "ServiceIntegrationTime",
    "ServiceIntegrationsFailed", "ServiceIntegrationsTimedOut", "ServiceIntegrationsScheduled",
    "ServiceIntegrationsSucceeded", "ServiceIntegrationsStarted",
    "ThrottledEvents", "ProvisionedBucketSize", "ProvisionedRefillRate", "ConsumedCapacity",
}  # fmt: skip
SQS_METRICS = {
    "ApproximateAgeOfOldestMessage", "ApproximateNumberOfGroupsWithInflightMessages",
    "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesVisible", "NumberOfDeduplicatedSentMessages", "NumberOfEmptyReceives",
    "NumberOfMessagesDeleted", "NumberOfMessagesReceived", "NumberOfMessagesSent", "SentMessageSize",
}  # fmt: skip


@dataclass(frozen=True)
class Namespace:
    name: str
    metrics: frozenset[str]
    complete: bool  # the sources list every metric of the namespace
    dimensions: frozenset[str] | None  # every dimension name published, when the sources list them all
    sources: tuple[str, ...]


NAMESPACES: dict[str, Namespace] = {
    ns.name: ns
    for ns in (
        Namespace(
            "AWS/ApiGateway",
            frozenset(REST_API_METRICS | HTTP_API_METRICS | WEBSOCKET_API_METRICS),
            complete=True,
            dimensions=frozenset({"ApiName", "ApiId", "Stage", "Method", "Resource", "Route"}),
            sources=(
                "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html",
                "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html",
                "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html",
            ),
        ),
        Namespace(
            "AWS/States",
            frozenset(STATES_METRICS),
            complete=False,  # Application Insights' list; Step Functions publishes more (Map Run, Express)
            dimensions=None,
            sources=(
                "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/appinsights-metrics-step-functions.html",
            ),
        ),
        Namespace(
            "AWS/SQS",
            frozenset(SQS_METRICS),
            complete=False,  # FIFO high-throughput and fair-queue metrics come and go
            dimensions=frozenset({"QueueName"}),
            sources=(
                "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html",
            ),
        ),
    )
}
