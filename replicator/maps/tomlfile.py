"""Reading a TOML file (replicator.toml, a map file) without a traceback for what a
file system can hold instead: a directory, a broken link, bytes that are not UTF-8."""

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
