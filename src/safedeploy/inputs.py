"""Reading the files the CLI is given, bounded: a regular file (a FIFO or a device would block or never
end), read to at most a limit, so that no input can hold a command or fill the runner's memory."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from safedeploy.errors import UserError

MIB = 2**20


class NotReadable(UserError):
    """The path exists but is no file to read (a directory, FIFO, device) or the system refused it."""


class TooLarge(UserError):
    """The file is larger than the command reads."""


def read_bytes(path: str | Path, limit: int, what: str) -> bytes:
    """The whole content of a regular file of at most `limit` bytes."""
    p = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading waits for a writer otherwise; checked below.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise UserError(f"cannot read {p}: no such file ({what})") from exc
    except OSError as exc:
        raise NotReadable(f"{what} {p}: cannot read it: {exc.strerror}") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotReadable(f"{what} {p}: not a regular file ({_kind(mode)}): not read")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise NotReadable(f"{what} {p}: cannot read it: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise TooLarge(f"{what} {p}: more than {_size(limit)}: not read")
    return data


def read_text(path: str | Path, limit: int, what: str) -> str:
    """A UTF-8 regular file of at most `limit` bytes (UnicodeDecodeError for the caller to word)."""
    return read_bytes(path, limit, what).decode("utf-8")


def read_stdin(limit: int, what: str) -> str:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{what} on standard input: more than {_size(limit)}: not read")
    return data.decode("utf-8")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _size(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit // 1024} KiB"
