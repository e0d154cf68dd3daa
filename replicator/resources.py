"""Where the static SQL (sql/) and the templates (templates/) are found.

Both sit at the top of the source tree and are shipped inside the wheel as the
resource packages ``replicator.sql`` and ``replicator.templates``.
"""

from importlib.resources import files
from importlib.resources.abc import Traversable


def sql_file(*parts: str) -> str:
    """Text of a file under sql/, e.g. ``sql_file("catalog", "columns.sql")``."""
    node: Traversable = files("replicator.sql")
    for part in parts:
        node = node / part
    return node.read_text(encoding="utf-8")


def templates_dir() -> Traversable:
    """The folder holding the jinja2 templates."""
    return files("replicator.templates")
