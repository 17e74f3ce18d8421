"""User-facing errors of the CLI: one line, exit code 2 unless said otherwise."""

from __future__ import annotations


def describe_aws_error(exc: BaseException) -> str:
    """`Operation: Code: Message` for a botocore ClientError, the text otherwise."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{getattr(exc, 'operation_name', 'call')}: {err.get('Code')}: {err.get('Message')}"
    return str(exc) or type(exc).__name__


class UserError(Exception):
    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class TemplateError(UserError):
    """The template itself is the problem (unreadable, not a template, not translatable): `check`
    reports it as a finding (`rule`), every other command as a one-line error."""

    def __init__(
        self, message: str, rule: str, resource: str = "template", at: tuple[int, int] | None = None
    ) -> None:
        super().__init__(message)
        self.rule = rule  # its severity is the rule's (SD053: it rests on values not known here)
        self.resource = resource  # the logical ID the problem is in, when it is in one
        self.at = at  # 1-based (line, column) in the template, when known
