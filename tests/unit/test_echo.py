"""The second example function (direct invoke), with the event shared with `sam local invoke`."""

from __future__ import annotations

import echo
from tests.helpers import FakeContext, load_event


def test_echo_returns_the_message() -> None:
    assert echo.lambda_handler(load_event("echo.json"), FakeContext(function_version="3")) == {
        "ok": True,
        "echo": "ping",
        "length": 4,
        "version": "3",
    }


def test_echo_refuses_bad_input() -> None:
    assert echo.lambda_handler({}, FakeContext())["error"] == "field 'message' (string) is required"
    assert "at most 1024" in echo.lambda_handler({"message": "x" * 1025}, FakeContext())["error"]
