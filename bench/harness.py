"""Measuring: repetitions summarised as median, min and max; the results table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured quantity over its repetitions."""

    unit: str
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def as_json(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "median": round(self.median, 4),
            "min": round(min(self.values), 4),
            "max": round(max(self.values), 4),
            "runs": len(self.values),
        }


def repeat(times: int, unit: str, measure: Callable[[], float]) -> Figure:
    return Figure(unit, tuple(measure() for _ in range(times)))


def rate(rows: int, work: Callable[[], object]) -> float:
    """Rows per second of ``work``."""
    started = time.perf_counter()
    work()
    return rows / (time.perf_counter() - started)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.005)


@dataclass
class Report:
    """Sections in order; each a dict of named figures, ratios, or a note why skipped."""

    sections: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, section: str, name: str, value: Figure | float | str) -> None:
        entry: object = value.as_json() if isinstance(value, Figure) else value
        self.sections.setdefault(section, {})[name] = entry

    def table(self) -> str:
        lines = [f"{'section / figure':<62} {'median':>12} {'min':>12} {'max':>12}  unit"]
        for section, figures in self.sections.items():
            lines.append(section)
            for name, value in figures.items():
                if isinstance(value, dict):
                    lines.append(
                        f"  {name:<60} {value['median']:>12} {value['min']:>12}"
                        f" {value['max']:>12}  {value['unit']}"
                    )
                else:
                    lines.append(f"  {name:<60} {value!s:>12}")
        return "\n".join(lines)
