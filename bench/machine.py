"""Where and how a benchmark ran: the machine, and the command that produced the figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# Set by the Makefile's bench targets; run by hand, the harness says so instead.
COMMAND_VARIABLE = "BENCH_COMMAND"
DEFAULT_COMMAND = ".venv/bin/python -m bench.run"


def _first_value(path: Path, key: str) -> str | None:
    """The value after ``key`` in a ``key: value`` (or ``key=value``) file, if any."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, sep, value = line.partition(":" if ":" in line else "=")
        if sep and name.strip() == key:
            return value.strip().strip('"')
    return None


def describe(postgresql: str) -> dict[str, object]:
    """The CPU, cores, memory, operating system, PostgreSQL (``SHOW server_version`` of
    the throw-away servers) and Python the figures were measured with."""
    memory_kb = _first_value(Path("/proc/meminfo"), "MemTotal")
    return {
        "cpu": _first_value(Path("/proc/cpuinfo"), "model name") or platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gb": round(int(memory_kb.split()[0]) / 1024**2, 1) if memory_kb else None,
        "os": _first_value(Path("/etc/os-release"), "PRETTY_NAME") or platform.platform(),
        "postgresql": postgresql,
        "python": platform.python_version(),
        "servers": "throw-away servers with fsync off, as the tests run them",
    }


def command() -> str:
    """The command line as it could be typed again into a shell: the BENCH_* settings
    in effect, the niceness, and the command (the Makefile's target, or the module)."""
    settings = [
        f"{name}={value}"
        for name, value in sorted(os.environ.items())
        if name.startswith("BENCH_") and name != COMMAND_VARIABLE
    ]
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    prefix = [f"nice -n {niceness}"] if niceness else []
    return " ".join([*settings, *prefix, os.environ.get(COMMAND_VARIABLE, DEFAULT_COMMAND)])
