"""Reading a TOML file (replicator.toml, a map file) without a traceback for what a
file system can hold instead: a directory, a broken link, bytes that are not UTF-8;
and checking the values read from it (one of a few words, a plain scalar)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path) -> tuple[str | None, dict[str, Any]]:
    """A TOML file's tables, or why it cannot be read (a directory, a broken link,
    bytes that are not UTF-8, a syntax error), said in words a DBA acts on."""
    try:
        data = path.read_bytes()
        return None, tomllib.loads(data.decode("utf-8"))
    except IsADirectoryError:
        return "is a directory, not a TOML file", {}
    except FileNotFoundError:
        if path.is_symlink():
            return f"is a symbolic link to {os.readlink(path)}, which does not exist", {}
        return "does not exist", {}
    except PermissionError:
        return "cannot be read: permission denied", {}
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}", {}
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (
            f"is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line};"
            " save the file as UTF-8"
        ), {}
    except tomllib.TOMLDecodeError as exc:
        return f"not valid TOML: {exc}", {}


def choice(value: Any, allowed: tuple[str, ...], key: str, problem: Any) -> Any:
    """``value`` if it is one of ``allowed``; else None, told to ``problem``."""
    if value not in allowed:
        problem(f"{key} must be one of {', '.join(allowed)} (got {value!r})")
        return None
    return value


def optional_choice(value: Any, allowed: tuple[str, ...], key: str, problem: Any) -> Any:
    """Like ``choice``, but a missing value (None) is no problem."""
    return None if value is None else choice(value, allowed, key, problem)


def is_scalar(value: Any) -> bool:
    """A string, number or boolean: what a map file may give as a value."""
    return isinstance(value, str | int | float | bool)
