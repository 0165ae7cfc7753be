"""The config package stays in pieces a reader can hold: short modules and no import cycle.

djops/config was one module of 2000 lines; it is split by concern (its __init__ lists the
modules). These tests keep it so: each module imports on its own, the modules import each other
without a cycle, and no module of djops grows past MAX_LINES unless the allow-list says why.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import djops.config

SRC = Path(__file__).resolve().parents[1] / "src" / "djops"
CONFIG = SRC / "config"
MODULES = sorted(path.stem for path in CONFIG.glob("*.py") if path.stem != "__init__")

MAX_LINES = 500
# Modules allowed over MAX_LINES for now, each with the reason. Nothing under config/ may be here.
TOO_LONG_FOR_NOW: set[str] = set()


def config_imports(path: Path) -> set[str]:
    """The modules of djops.config that `path` imports ("__init__" for the package itself).

    Imports inside functions count too: a late import only hides a cycle until the day the
    function runs first.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import fields, from .fields import _fail
                module = ".".join(["djops", "config", *filter(None, [node.module])])
            else:
                module = node.module or ""
            if module == "djops.config":
                found |= {a.name if a.name in MODULES else "__init__" for a in node.names}
            elif module.startswith("djops.config."):
                found.add(module.split(".")[2])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "djops.config":
                    found.add("__init__")
                elif alias.name.startswith("djops.config."):
                    found.add(alias.name.split(".")[2])
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as the path that goes round it (["a", "b", "a"]), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def import_graph() -> dict[str, set[str]]:
    return {path.stem: config_imports(path) - {path.stem} for path in CONFIG.glob("*.py")}


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_config_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    # The parser sees the imports that are there (else the next check would pass on nothing).
    assert "rules" in graph["models"] and "models" in graph["__init__"]
    assert find_cycle(graph) is None


@pytest.mark.parametrize("module", MODULES)
def test_each_config_module_imports_in_a_fresh_interpreter(module):
    result = subprocess.run(
        [sys.executable, "-c", f"import djops.config.{module}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", MODULES)
def test_each_config_module_imports_without_the_package_init(module):
    # Importing djops.config.X runs djops/config/__init__.py first, which imports every module
    # in its own order. With an empty package in its place, X must bring what it needs itself.
    code = (
        "import sys, types\n"
        "package = types.ModuleType('djops.config')\n"
        f"package.__path__ = [{str(CONFIG)!r}]\n"
        "sys.modules['djops.config'] = package\n"
        f"import djops.config.{module}\n"
        "assert not hasattr(package, '__all__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_djops_config_exports_every_name_it_lists():
    missing = [name for name in djops.config.__all__ if not hasattr(djops.config, name)]
    assert missing == []


def line_counts() -> dict[str, int]:
    return {
        path.relative_to(SRC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in SRC.rglob("*.py")
    }


def test_no_module_is_longer_than_the_limit():
    too_long = {
        name: lines
        for name, lines in line_counts().items()
        if lines > MAX_LINES and name not in TOO_LONG_FOR_NOW
    }
    assert too_long == {}, f"split these modules by concern (at most {MAX_LINES} lines each)"


def test_the_allow_list_holds_only_long_modules_outside_config():
    counts = line_counts()
    assert not any(name.startswith("config/") for name in TOO_LONG_FOR_NOW)
    # Once a module is split, its entry goes: the list must not keep room for it to grow back.
    assert {name: counts.get(name, 0) > MAX_LINES for name in TOO_LONG_FOR_NOW} == dict.fromkeys(
        TOO_LONG_FOR_NOW, True
    )
