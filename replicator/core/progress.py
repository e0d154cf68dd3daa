"""Progress of a long copy: a bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

WIDTH = 30


@dataclass
class Progress:
    out: TextIO
    label: str
    total: int
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    first: int = -1  # rows already done when this run started (a resumed sync)

    def advance(self, rows: int) -> None:
        if self.first < 0:
            self.first = self.done
        self.done += rows
        self._show(final=False)

    def finish(self) -> None:
        self._show(final=True)

    def _show(self, final: bool) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (self.done - max(self.first, 0)) / elapsed
        left = max(self.total - self.done, 0)
        eta = f"{left / rate:.0f} s" if rate > 0 and not final else "-"
        figures = f"{self.done}/{self.total} rows, {rate:.0f} rows/s, ETA {eta}"
        if self.out.isatty():
            filled = WIDTH * min(self.done, self.total) // self.total if self.total else WIDTH
            bar = "#" * filled + "." * (WIDTH - filled)
            self.out.write(f"\r{self.label} [{bar}] {figures}" + ("\n" if final else ""))
        else:
            self.out.write(f"{self.label}: {figures}{' (done)' if final else ''}\n")
        self.out.flush()
