"""The sync's progress display: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

from replicator.core.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_redrawn_bar() -> None:
    out = Terminal()
    bar = Progress(out, "cards (fno→cds)", total=200)
    bar.advance(50)
    bar.advance(150)
    bar.finish()
    frames = out.getvalue().split("\r")[1:]
    assert frames[0].startswith("cards (fno→cds) [#######.......................] 50/200 rows, ")
    assert "ETA " in frames[0] and "rows/s" in frames[0]
    assert frames[-1].startswith("cards (fno→cds) [##############################] 200/200 rows")
    assert frames[-1].endswith("ETA -\n")


def test_a_log_gets_plain_lines() -> None:
    out = io.StringIO()
    bar = Progress(out, "cards (fno→cds)", total=100, done=40)  # resumed at 40
    bar.advance(60)
    bar.finish()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("cards (fno→cds): 100/100 rows, ")
    assert lines[-1].endswith("ETA - (done)")
    assert "\r" not in out.getvalue()
