"""Bounded waits on every command that talks to AWS, and numeric options that are numbers in range."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from safedeploy import cli
from safedeploy.live import aws
from tests.helpers import LoopbackListener


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackListener]:
    server = LoopbackListener(hold=True)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    # the same mechanism, in tenths of the real figures: the test takes about a second, not twenty
    monkeypatch.setattr(aws, "READ_TIMEOUT_S", 0.5)
    monkeypatch.setattr(aws, "CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(aws, "CALL_DEADLINE_S", 1.0)
    yield server
    server.close()


def test_clients_have_timeouts_tries_and_a_deadline() -> None:
    client = aws.client("cloudformation", "us-east-1")
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (aws.CONNECT_TIMEOUT_S, aws.READ_TIMEOUT_S)
    assert config.retries["total_max_attempts"] == aws.TRIES
    worst = aws.CALL_DEADLINE_S + aws.CONNECT_TIMEOUT_S + aws.READ_TIMEOUT_S
    assert worst < 60  # seconds, not minutes: botocore's defaults allow about 3 minutes


@pytest.mark.parametrize(
    "args",
    [
        ["versions", "--stack", "s", "--region", "us-east-1"],
        ["watch", "--stack", "s", "--region", "us-east-1"],
        ["route", "--stack", "s", "--function", "F", "--show", "--region", "us-east-1"],
        ["drill", "--stack", "s", "--region", "us-east-1"],
    ],
    ids=lambda a: a[0],
)
def test_an_endpoint_that_never_answers_is_a_one_line_error_in_seconds(
    args: list[str], silent: LoopbackListener, capsys: pytest.CaptureFixture[str]
) -> None:
    result: dict[str, int] = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.setdefault("code", cli.main(args)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "still waiting on the silent endpoint"
    err = capsys.readouterr().err
    assert result["code"] == 2 and err.count("\n") == 1, err
    assert "no answer" in err or "timeout" in err.lower()
    assert len(silent.held) <= aws.TRIES  # one call, its tries, then the deadline
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "args",
    [
        ["watch", "--stack", "s", "--interval", "0"],
        ["watch", "--stack", "s", "--interval", "-1"],
        ["watch", "--stack", "s", "--interval", "nan"],
        ["watch", "--stack", "s", "--timeout", "nan"],
        ["watch", "--stack", "s", "--timeout", "inf"],
        ["watch", "--stack", "s", "--timeout", "-5"],
        ["drill", "--stack", "s", "--fault-rate", "-1"],
        ["drill", "--stack", "s", "--fault-rate", "nan"],
        ["drill", "--stack", "s", "--fault-rate", "101"],
        ["drill", "--stack", "s", "--timeout", "-1"],
        ["route", "--stack", "s", "--function", "F", "--weight", "nan"],
        ["route", "--stack", "s", "--function", "F", "--weight", "100.5"],
        ["plan", "template.yaml", "--rps", "nan"],
        ["plan", "template.yaml", "--rps", "-3"],
        ["rollback", "--stack", "s", "--function", "F", "--to", "2", "--interval", "0"],
        ["rollback", "--stack", "s", "--function", "F", "--to", "2", "--timeout", "nan"],
    ],
    ids=lambda a: "_".join(a[0::2][:1] + a[-2:]),
)
def test_numeric_options_are_finite_and_in_range(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and "must be" in err
