"""make lint's import rules (devtools/check_imports.py), on a package made for the
purpose: a module below the commands that imports one, even inside a function, a
module that reaches for another's private names, a module of a lower layer that
imports a higher one, and a sub-package that is no layer are named; the rest pass."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devtools.check_imports import main, problems

REPOSITORY = Path(__file__).resolve().parent.parent

MODULES = {
    "__init__.py": "",
    "compiler.py": """
        def public() -> int:
            return _private()

        def _private() -> int:
            return 1
        """,
    "commands.py": """
        from pkg import compiler

        def check() -> int:
            return compiler.public()

        def _helper() -> None:
            pass
        """,
    "cli.py": """
        from pkg import commands, verify
        """,
    "verify.py": """
        from pkg import compiler

        def run() -> int:
            from pkg.commands import check

            return check() + compiler._private()
        """,
    "verifysql.py": """
        import pkg.compiler
        from pkg.compiler import _private, public
        from .commands import check

        def total() -> int:
            return pkg.compiler._private() + _private() + public() + check()
        """,
    "sync.py": """
        import pkg.compiler as generator
        from . import compiler
        from pkg.compiler import public

        def _own() -> int:
            return generator.public() + compiler.public() + public()

        def run() -> int:
            return _own()
        """,
    "core/__init__.py": "",
    "core/text.py": """
        from pkg.maps.model import Row

        WIDTH: Row = 80
        """,
    "maps/__init__.py": "",
    "maps/model.py": """
        from pkg.core import text

        Row = int


        def later() -> int:
            from pkg.runtime import loop

            return loop.run() + text.WIDTH
        """,
    "runtime/__init__.py": "",
    "runtime/loop.py": """
        from pkg.core.text import WIDTH
        from pkg.maps import model


        def run() -> int:
            return model.Row(WIDTH)
        """,
    "plugins/__init__.py": "",
}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    for name, text in MODULES.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())
    return root


def test_back_edges_and_private_names_are_named_with_their_line(package: Path) -> None:
    found = {(p.path.name, p.line, p.message) for p in problems(package)}
    command = (
        "a command module: commands call down the pipeline, not the other way;"
        " move what it needs into a module below them"
    )
    higher = "a higher layer: imports go down the pipeline; move what it needs down"
    layers = "core, maps, inspect, sqlgen, operations, runtime, commands) where its imports fit"
    assert found == {
        ("verify.py", 4, f"pkg.verify imports pkg.commands, {command}"),
        ("verify.py", 6, "pkg.verify uses the private name _private of pkg.compiler"),
        ("verifysql.py", 2, "pkg.verifysql imports the private name _private of pkg.compiler"),
        ("verifysql.py", 3, f"pkg.verifysql imports pkg.commands, {command}"),
        ("verifysql.py", 6, "pkg.verifysql uses the private name _private of pkg.compiler"),
        ("text.py", 1, f"pkg.core.text (core) imports pkg.maps.model (maps), {higher}"),
        ("model.py", 7, f"pkg.maps.model (maps) imports pkg.runtime.loop (runtime), {higher}"),
        ("__init__.py", 1, f"pkg.plugins: pkg.plugins is no layer; add it to LAYERS ({layers}"),
    }


def test_lint_fails_on_them_and_passes_the_product(package: Path) -> None:
    assert main([str(package)]) == 1
    assert main([str(REPOSITORY / "replicator")]) == 0
