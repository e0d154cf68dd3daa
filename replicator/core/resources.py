"""Where the static SQL (sql/) and the templates (templates/) are found.

Both sit at the top of the source tree. An installed wheel carries them as the
resource packages ``replicator.sql`` and ``replicator.templates``; run from a
source checkout (``python -m replicator.cli`` in the repository), they are
read where they sit.
"""

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parents[2]  # replicator/core/ -> the checkout


@cache
def _folder(name: str) -> Traversable:
    try:
        return files(f"replicator.{name}")
    except ModuleNotFoundError:
        return _SOURCE_TREE / name


def sql_file(*parts: str) -> str:
    """Text of a file under sql/, e.g. ``sql_file("catalog", "columns.sql")``."""
    node = _folder("sql")
    for part in parts:
        node = node / part
    return node.read_text(encoding="utf-8")


def sql_names(*parts: str) -> list[str]:
    """The names of the files in a folder under sql/, e.g. ``sql_names("migrations")``."""
    node = _folder("sql")
    for part in parts:
        node = node / part
    return sorted(child.name for child in node.iterdir() if child.is_file())


def templates_dir() -> Traversable:
    """The folder holding the jinja2 templates."""
    return _folder("templates")
