"""Where a function's smoke cases live.

The target function names its case set with the tag `safedeploy:smoke-cases` (set in the template next
to the function), so one hook pair serves any number of functions. The set is read from the hooks'
own package (`SMOKE_CASE_LOCATION` = a folder, default `smoke_cases`) or from S3
(`SMOKE_CASE_LOCATION` = `s3://bucket/prefix`), for teams that nest the hooks from SAR.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from safedeploy_core.appspec import function_name_of
from safedeploy_core.errors import SmokeCaseError
from safedeploy_core.smoke import SmokeCase, load_cases

SMOKE_TAG = "safedeploy:smoke-cases"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def smoke_case_key(lambda_client: Any, function_arn: str) -> str:
    """The function's case-set name, from its tags (ListTags takes the unqualified function ARN)."""
    tags = lambda_client.list_tags(Resource=function_arn).get("Tags") or {}
    key = tags.get(SMOKE_TAG)
    if not key:
        name = function_name_of(function_arn)
        raise SmokeCaseError(f"function {name} has no tag {SMOKE_TAG!r} naming its smoke cases")
    if not _KEY.match(key) or ".." in key:
        raise SmokeCaseError(f"tag {SMOKE_TAG}={key!r} is not a plain case-set name")
    return str(key)


def read_case_document(location: str, key: str, s3: Any = None, base_dir: Path = PACKAGE_ROOT) -> Any:
    if location.startswith("s3://"):
        bucket, _, prefix = location[5:].partition("/")
        object_key = f"{prefix.rstrip('/')}/{key}.json".lstrip("/")
        body = s3.get_object(Bucket=bucket, Key=object_key)["Body"].read()
        source = f"s3://{bucket}/{object_key}"
    else:
        folder = Path(location) if Path(location).is_absolute() else base_dir / location
        path = folder / f"{key}.json"
        if not path.is_file():
            raise SmokeCaseError(f"no smoke case file {path.name} in {location}")
        body = path.read_bytes()
        source = str(path.name)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise SmokeCaseError(f"{source} is not JSON: {exc}") from exc


def load_function_cases(
    lambda_client: Any, location: str, function_arn: str, s3: Any = None
) -> list[SmokeCase]:
    key = smoke_case_key(lambda_client, function_arn)
    return load_cases(read_case_document(location, key, s3), source=f"smoke cases {key!r}")
