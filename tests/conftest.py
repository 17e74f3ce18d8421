from __future__ import annotations

import os

import pytest

# Lambda sets these before it imports a handler module; Powertools reads them at import.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "safe-deploy-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "SafeDeployTest")


@pytest.fixture(autouse=True)
def aws_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches AWS: fake credentials, a region, and Powertools configured as in the template."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "safe-deploy-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SafeDeployTest")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")
    for name in ("FAULT_MODE", "FAULT_RATE", "FAULT_SLOW_MS"):
        monkeypatch.delenv(name, raising=False)


# The `sam local invoke` tests need a Docker engine and the stand-in image: `make local-invoke`
# runs them (with SAFEDEPLOY_LOCAL_INVOKE=1), `make test` does not collect them.
collect_ignore = [] if os.environ.get("SAFEDEPLOY_LOCAL_INVOKE") == "1" else ["local"]
