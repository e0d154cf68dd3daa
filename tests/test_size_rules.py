"""make lint's size rules (devtools/check_sizes.py), on a package made for the
purpose: a function over the limit is named, one whose line before says
``# long:`` why is let through, and so are the short ones; a module over the limit is
named too, unless its first lines say why."""

from __future__ import annotations

from pathlib import Path

from devtools.check_sizes import FUNCTION_LINES, main, problems


def _function(name: str, comment: str = "") -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(FUNCTION_LINES))
    return f"{comment}def {name}() -> None:\n{body}"


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(
        _function("too_long")
        + "\n\n"
        + _function(
            "explained", "# long: one linear sequence of checks,\n# which reads best in one place\n"
        )
        + "\n\ndef short() -> None:\n    pass\n"
    )
    return package


def test_a_long_function_is_named_unless_a_comment_says_why(tmp_path: Path) -> None:
    package = _package(tmp_path)
    found = problems(package)
    assert [(p.path.name, p.line) for p in found] == [("mod.py", 1)]
    assert "function too_long has 61 lines" in found[0].message
    assert main([str(package)]) == 1


def test_a_long_module_is_named_unless_its_header_says_why(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    long_module = "".join(f"X{i} = {i}\n" for i in range(401))
    (package / "big.py").write_text(long_module)
    (package / "big_ok.py").write_text("# long: a table of constants\n" + long_module)
    found = problems(package)
    assert [(p.path.name, p.message) for p in found] == [
        ("big.py", "module has 401 lines (limit 400)")
    ]
