"""What a rehearsed function sees of the machine: its template's environment, Lambda's own variables,
fake credentials and the fake account's endpoint — nothing of the environment the CLI runs in (no
credentials, tokens, PATH additions or proxies); and, from the runners, which outside hosts it tried
to reach (refused there)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FAKE_KEY = "rehearsal"  # moto takes any key; it is never a real one
# The rehearsed function signs with its own fake key, so the fake account can tell its calls from the
# hooks' (which run in the CLI's process) and decide them by the function's role.
FUNCTION_KEY = "rehearsed-function"
# Lambda's fixed variables ("Defined runtime environment variables", Lambda developer guide)
LAMBDA_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Refusal:
    function: str
    host: str

    @property
    def service(self) -> str:
        return service_of(self.host)

    def message(self) -> str:
        return (
            f"{self.function} called {self.service} at {self.host}: refused (a rehearsal reaches only "
            "the fake account; is an endpoint set in the code instead of the SDK's default?)"
        )


def service_of(host: str) -> str:
    """The AWS service a host name belongs to: dynamodb.us-east-1.amazonaws.com -> dynamodb,
    bucket.s3.us-east-1.amazonaws.com -> s3, sts.amazonaws.com -> sts; any other host as it is."""
    labels = host.lower().rstrip(".").split(".")
    for suffix in (("amazonaws", "com"), ("amazonaws", "com", "cn"), ("api", "aws")):
        n = len(suffix)
        if tuple(labels[-n:]) == suffix and len(labels) > n:
            rest = labels[:-n]
            # service.region.amazonaws.com, or a bucket/host prefix before them
            if len(rest) >= 2 and rest[-1].count("-") >= 2:
                return rest[-2]
            return rest[-1]
    return host


def function_environment(
    template_env: dict[str, str],
    *,
    function_name: str,
    memory_mb: int,
    runtime: str,
    handler: str,
    task_root: Path,
    endpoint: str,
    region: str,
    home: Path,
) -> dict[str, str]:
    """The whole environment of a rehearsed function's process, built from nothing: the template's
    variables over a Lambda-like base, and Lambda's reserved variables over both (as Lambda refuses a
    template that sets those)."""
    base = {
        "PATH": LAMBDA_PATH,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(home),  # empty: no ~/.aws of the machine
        # every AWS SDK (boto3 >= 1.28, JavaScript v3) sends every service to the fake account
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # as under `sam local`: tracers (Powertools, X-Ray SDK) stay off without a daemon
        "AWS_SAM_LOCAL": "true",
    }
    reserved = {
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FUNCTION_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_KEY,
        "AWS_SESSION_TOKEN": FAKE_KEY,
    }
    return {**base, **template_env, **reserved}


# What the CLI's own process keeps while the template's hooks run in it (terminal, locale, paths)
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "COLUMNS", "LINES", "TMPDIR", "NO_COLOR")


@contextlib.contextmanager
def scrubbed_process_environment(endpoint: str, region: str, home: Path) -> Iterator[None]:
    """The kit's hooks run in the CLI's process, from the project's hooks folder (the template's code):
    while they may run, this process's environment holds no more than a rehearsed function's — the
    terminal's basics, fake credentials and the fake account's endpoint — and is restored after."""
    saved = dict(os.environ)
    kept = {k: v for k, v in saved.items() if k in KEPT or k.startswith("SAFEDEPLOY_")}
    os.environ.clear()
    os.environ.update(
        {
            **kept,
            "AWS_ACCESS_KEY_ID": FAKE_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_KEY,
            "AWS_SESSION_TOKEN": FAKE_KEY,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
