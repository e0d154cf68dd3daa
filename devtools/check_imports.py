"""``make lint``: imports go down the pipeline (``python -m devtools.check_imports``).

Fails, one line per import, when a module of the package

* imports a private name (``_x``) of another module, as ``from m import _x`` or as
  ``m._x``: what one module needs of another is that module's public interface;
* imports a command module (``COMMAND_MODULES``: the functions behind the verbs)
  without being one: commands sit on top and call the engine and operations
  modules (verify, repair, sync, deploy, ...), never the other way round.

Imports inside functions count like any other.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

# The command layer: the parser and the functions behind the verbs.
COMMAND_MODULES = frozenset({"cli", "commands", "admin"})


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def problems(package: Path) -> list[Problem]:
    """Every import in the package at ``package`` (a folder) that breaks a rule."""
    found: list[Problem] = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        is_package = parts[-1] == "__init__"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += _Module(path, module, is_package, package.name).check(tree)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


class _Module:
    def __init__(self, path: Path, module: str, is_package: bool, root: str) -> None:
        self.path = path
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.root = root
        self.bound: dict[str, str] = {}  # local name -> the module of the package it names
        self.found: list[Problem] = []

    def check(self, tree: ast.Module) -> list[Problem]:
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        for node in sorted(imports, key=lambda n: (n.lineno, n.col_offset)):
            if isinstance(node, ast.Import):
                self._import(node)
            else:
                self._import_from(node)
        for attribute in ast.walk(tree):
            if isinstance(attribute, ast.Attribute) and _private(attribute.attr):
                owner = self._module_of(attribute.value)
                if owner is not None and owner != self.module:
                    self._report(attribute, f"uses the private name {attribute.attr} of {owner}")
        return self.found

    def _ours(self, module: str) -> bool:
        return module == self.root or module.startswith(self.root + ".")

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not self._ours(alias.name):
                continue
            self._command_edge(node, alias.name)
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                self.bound[alias.name.partition(".")[0]] = alias.name.partition(".")[0]

    def _import_from(self, node: ast.ImportFrom) -> None:
        target = node.module or ""
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([target] if target else [])])
        if not self._ours(target):
            return
        self._command_edge(node, target)
        for alias in node.names:
            if alias.name == "*":
                continue
            submodule = f"{target}.{alias.name}"
            if target == self.package or target == self.root:
                # from replicator import commands: a module of the package.
                self._command_edge(node, submodule)
                self.bound[alias.asname or alias.name] = submodule
            if _private(alias.name) and target != self.module:
                self._report(node, f"imports the private name {alias.name} of {target}")

    def _command_edge(self, node: ast.stmt, target: str) -> None:
        if self._layer(target) and not self._layer(self.module):
            self._report(
                node,
                f"imports {target}, a command module: commands call down the pipeline,"
                " not the other way; move what it needs into a module below them",
            )

    def _layer(self, module: str) -> bool:
        # replicator.cli, replicator.commands and every module of replicator.commands/.
        return not COMMAND_MODULES.isdisjoint(module.split(".")[1:])

    def _module_of(self, node: ast.expr) -> str | None:
        """The package's module an expression names (``compiler``, ``replicator.compiler``)."""
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self._module_of(node.value)
            return f"{owner}.{node.attr}" if owner is not None else None
        return None

    def _report(self, node: ast.stmt | ast.expr, message: str) -> None:
        self.found.append(Problem(self.path, node.lineno, f"{self.module} {message}"))


def main(argv: list[str]) -> int:
    found = [p for folder in (argv or ["replicator"]) for p in problems(Path(folder))]
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
