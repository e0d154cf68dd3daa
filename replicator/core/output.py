"""Tables as psql prints them: aligned columns, a rule, and a row count."""

from __future__ import annotations

from typing import TextIO


def write_table(out: TextIO, headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]
    out.write(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def duration(seconds: float) -> str:
    """Seconds as people read them: "42 s", "4 min 18 s"."""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 map``, ``2 maps``: a count with its noun in the right number."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
