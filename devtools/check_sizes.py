"""``make lint``: modules and functions stay small (``python -m devtools.check_sizes``).

Lists, one line each, every module of the package over ``MODULE_LINES`` lines and
every function (or method) over ``FUNCTION_LINES`` lines, from its ``def`` (or first
decorator) to its last line. A function is let through when the line just before it
is a comment starting ``# long:`` that says why it reads best in one piece; a module
when one of its first ``HEADER_LINES`` lines is such a comment. Exit 1 when anything
is listed.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

MODULE_LINES = 400
FUNCTION_LINES = 60
HEADER_LINES = 10
WHY = "# long:"

@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def problems(package: Path) -> list[Problem]:
    """Every module and function under ``package`` (a folder) over the limits."""
    found: list[Problem] = []
    for path in sorted(package.rglob("*.py")):
        found += _check_module(path)
    return found


def _check_module(path: Path) -> list[Problem]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found: list[Problem] = []
    if len(lines) > MODULE_LINES and not _explained(lines[:HEADER_LINES]):
        found.append(Problem(path, 1, f"module has {len(lines)} lines (limit {MODULE_LINES})"))
    for node in ast.walk(ast.parse(text, str(path))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > FUNCTION_LINES and not _explained(_comment_above(lines, start)):
            found.append(
                Problem(
                    path,
                    node.lineno,
                    f"function {node.name} has {length} lines (limit {FUNCTION_LINES})",
                )
            )
    return found


def _comment_above(lines: list[str], start: int) -> list[str]:
    """The comment lines just above line ``start`` (1-based), nearest last."""
    top = start - 1
    while top > 0 and lines[top - 1].lstrip().startswith("#"):
        top -= 1
    return lines[top : start - 1]


def _explained(lines: list[str]) -> bool:
    return any(line.strip().startswith(WHY) for line in lines)


def main(argv: list[str]) -> int:
    found = [p for folder in (argv or ["replicator"]) for p in problems(Path(folder))]
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
