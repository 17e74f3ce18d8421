"""User-facing errors of the CLI: one line, exit code 2."""


class UserError(Exception):
    exit_code = 2
