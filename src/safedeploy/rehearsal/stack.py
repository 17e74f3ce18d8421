"""The rest of the user's stack in the fake account: the translated template's tables, queues, topics,
buckets, parameters, secrets and event buses are created in moto, and what `Ref`/`GetAtt` give for them
(names, ARNs, URLs) is added to the placeholder mapping, so a function's environment names them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from safedeploy.rehearsal.placeholders import concretize
from safedeploy.template.scope import Scope, known

REGION, ACCOUNT = "us-east-1", "123456789012"


@dataclass
class StackResources:
    mapping: dict[str, str] = field(default_factory=dict)  # "Table" -> name, "Table.Arn" -> ARN
    created: list[str] = field(default_factory=list)  # "AWS::DynamoDB::Table SampleTable"
    skipped: list[str] = field(default_factory=list)  # one line each: what could not be created, why


def _name(
    scope: Scope, props: dict[str, Any], key: str, logical: str, stack: str, mapping: dict[str, str]
) -> str:
    """The name the template gives, or one made as CloudFormation makes them (stack-Logical-SUFFIX)."""
    given = concretize(scope.resolve(props.get(key)), mapping) if key in props else None
    if isinstance(given, str) and known(given):
        return given
    return f"{stack}-{logical}-{hashlib.sha256(logical.encode()).hexdigest()[:8].upper()}"


def _table(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            args[key] = [
                {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                for index in props[key]
            ]
    stream = props.get("StreamSpecification") or {}
    if stream.get("StreamViewType"):
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    table = client("dynamodb").create_table(**args)["TableDescription"]
    out = {"": name, "Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        out["StreamArn"] = table["LatestStreamArn"]
    return out


def _bucket(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    name = name.lower()
    client("s3").create_bucket(Bucket=name)
    return {
        "": name,
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
    }


def _queue(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    attributes = {"FifoQueue": "true"} if str(props.get("FifoQueue")).lower() == "true" else {}
    if attributes and not name.endswith(".fifo"):
        name += ".fifo"
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return {"": url, "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", "QueueName": name, "QueueUrl": url}


def _topic(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    arn = client("sns").create_topic(Name=name)["TopicArn"]
    return {"": arn, "TopicArn": arn, "TopicName": name}


def _parameter(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    value = str(props.get("Value"))  # a value only AWS knows (an API's URL) keeps its placeholder
    client("ssm").put_parameter(
        Name=name, Value=value, Type=str(props.get("Type") or "String"), Overwrite=True
    )
    return {"": name, "Type": str(props.get("Type") or "String"), "Value": value}


def _secret(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    value = props.get("SecretString")
    if not isinstance(value, str) or not known(value):
        value = secrets.token_urlsafe(24)  # GenerateSecretString: any secret will do offline
    arn = client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    return {"": arn, "Id": arn}


def _bus(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    arn = client("events").create_event_bus(Name=name)["EventBusArn"]
    return {"": name, "Arn": arn, "Name": name}


# type -> (the property naming it, the maker)
MAKERS: dict[str, tuple[str, Callable[[Any, str, dict[str, Any]], dict[str, str]]]] = {
    "AWS::DynamoDB::Table": ("TableName", _table),
    "AWS::S3::Bucket": ("BucketName", _bucket),
    "AWS::SQS::Queue": ("QueueName", _queue),
    "AWS::SNS::Topic": ("TopicName", _topic),
    "AWS::SSM::Parameter": ("Name", _parameter),
    "AWS::SecretsManager::Secret": ("Name", _secret),
    "AWS::Events::EventBus": ("Name", _bus),
}
SERVICES = ("dynamodb", "s3", "sqs", "sns", "ssm", "secretsmanager", "events")


def create_stack_resources(
    scope: Scope, client: Callable[[str], Any], stack: str, mapping: dict[str, str]
) -> StackResources:
    """Create the root template's resources of the kinds above in the fake account."""
    out = StackResources()
    for logical, resource in scope.resources.items():
        kind = resource.get("Type")
        if kind not in MAKERS or not scope.active(logical):
            continue
        name_key, make = MAKERS[kind]
        props = concretize(scope.resolve(resource.get("Properties") or {}), {**mapping, **out.mapping})
        name = _name(
            scope, resource.get("Properties") or {}, name_key, logical, stack, {**mapping, **out.mapping}
        )
        try:
            values = make(client, name, props)
        except Exception as exc:  # one resource the fake account cannot hold does not stop the others
            out.skipped.append(f"{kind} {logical} is not in the fake account: {exc}")
            continue
        for attr, value in values.items():
            out.mapping[f"{logical}.{attr}" if attr else logical] = value
        out.created.append(f"{kind} {logical}")
    return out
