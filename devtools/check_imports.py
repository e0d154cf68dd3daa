"""``make lint``: imports go down the pipeline (``python -m devtools.check_imports``).

Fails, one line per import, when a module of the package

* imports a private name (``_x``) of another module, as ``from m import _x`` or as
  ``m._x``: what one module needs of another is that module's public interface;
* imports a command module (``COMMAND_MODULES``: the functions behind the verbs)
  without being one: commands sit on top and call the engine and operations
  modules (verify, repair, sync, deploy, ...), never the other way round;
* imports a module of a higher layer (``LAYERS``, the package's sub-packages from
  the bottom up: core, maps, inspect, sqlgen, operations, runtime, commands; a
  module at the top of the package, such as cli, sits above them all), or sits in
  a sub-package that is no layer: imports go down the pipeline only.

Imports inside functions count like any other.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

# The command layer: the parser and the functions behind the verbs.
COMMAND_MODULES = frozenset({"cli", "commands", "admin"})

# The sub-packages, lowest first: a module may import its own layer and those below.
LAYERS = ("core", "maps", "inspect", "sqlgen", "operations", "runtime", "commands")


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
        found += _Module(path, module, is_package, package).check(tree)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


class _Module:
    def __init__(self, path: Path, module: str, is_package: bool, package: Path) -> None:
        self.path = path
        self.path_root = package
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.root = package.name
        self.bound: dict[str, str] = {}  # local name -> the module of the package it names
        self.found: list[Problem] = []

    def check(self, tree: ast.Module) -> list[Problem]:
        if self._rank(self.module) is None:
            layer = self.module.split(".")[1]
            self.found.append(
                Problem(
                    self.path,
                    1,
                    f"{self.module}: {self.root}.{layer} is no layer; add it to LAYERS"
                    f" ({', '.join(LAYERS)}) where its imports fit",
                )
            )
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
            self._edge(node, alias.name)
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
        # from replicator import cli, from replicator.maps import model: modules of a
        # package, each an edge of its own; from replicator.maps.model import Config: one.
        of_package = target == self.package or self._folder(target).is_dir()
        if not of_package:
            self._edge(node, target)
        for alias in node.names:
            if alias.name == "*":
                continue
            submodule = f"{target}.{alias.name}"
            if of_package:
                self._edge(node, submodule)
                self.bound[alias.asname or alias.name] = submodule
            if _private(alias.name) and target != self.module:
                self._report(node, f"imports the private name {alias.name} of {target}")

    def _edge(self, node: ast.stmt, target: str) -> None:
        if self._command(target) and not self._command(self.module):
            self._report(
                node,
                f"imports {target}, a command module: commands call down the pipeline,"
                " not the other way; move what it needs into a module below them",
            )
            return
        mine, theirs = self._rank(self.module), self._rank(target)
        if mine is not None and theirs is not None and theirs > mine:
            self._report(
                node,
                f"({self._layer_name(mine)}) imports {target} ({self._layer_name(theirs)}),"
                " a higher layer: imports go down the pipeline; move what it needs down",
            )

    def _rank(self, module: str) -> int | None:
        """The layer of a module of the package: its index in LAYERS, len(LAYERS) for a
        module at the top (cli), None in a sub-package that is no layer."""
        parts = module.split(".")
        if len(parts) < 2 or not self._folder(f"{self.root}.{parts[1]}").is_dir():
            return len(LAYERS)
        return LAYERS.index(parts[1]) if parts[1] in LAYERS else None

    def _folder(self, module: str) -> Path:
        """Where a module of the package would sit as a folder (a package)."""
        return self.path_root.joinpath(*module.split(".")[1:])

    @staticmethod
    def _layer_name(rank: int) -> str:
        return LAYERS[rank] if rank < len(LAYERS) else "top"

    def _command(self, module: str) -> bool:
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
