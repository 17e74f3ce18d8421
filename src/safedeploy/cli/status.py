"""The command's exit statuses, one meaning each."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # success: no error finding, PASS, deployment succeeded, outcome as expected
    FAILED = 1  # an error finding, FAIL, a rollback, an outcome other than expected
    USAGE = 2  # bad input or arguments, AWS refused: one line on stderr
    UNDECIDED = 3  # judge: INCONCLUSIVE or NODATA
    INTERRUPTED = 130  # Ctrl-C
