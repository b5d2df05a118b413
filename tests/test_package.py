"""The package's shape: modules import each other one way, stay small, and their references resolve."""

from __future__ import annotations

import ast
import importlib.metadata
import re
from pathlib import Path

import pytest

import cordswivel

PACKAGE = Path(cordswivel.__file__).parent
ROOT = PACKAGE.parents[1]
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def top_level_imports(module: str) -> set[str]:
    """Package modules that ``module`` imports when it is imported (not inside functions)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks do not run
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found & set(MODULES)


def test_imports_form_no_cycle():
    graph = {m: top_level_imports(m) for m in MODULES}
    done, active = set(), []

    def visit(module):
        if module in active:
            pytest.fail("import cycle: " + " -> ".join([*active[active.index(module) :], module]))
        if module in done:
            return
        active.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        active.pop()
        done.add(module)

    for module in MODULES:
        visit(module)
    assert graph["shards"] <= {"config", "errors", "fileio", "vocab"}  # training reads shards without Numba
    assert "hub" not in graph["layers"] and "layers" not in graph["embedding"]


@pytest.mark.parametrize("module", MODULES)
def test_modules_stay_small_and_have_a_test_module(module):
    assert len((PACKAGE / f"{module}.py").read_text().splitlines()) <= 500
    assert (ROOT / "tests" / f"test_{module}.py").is_file()


def test_design_references_resolve():
    headings = set(re.findall(r"^#+ (.+)$", (ROOT / "docs" / "design.md").read_text(), flags=re.M))
    cited = set()
    for path in [*PACKAGE.glob("*.py"), ROOT / "tests" / "helpers.py", *sorted((ROOT / "tests").glob("test_*.py"))]:
        text = path.read_text()
        assert path.parent != PACKAGE or "DESIGN.md" not in text, path  # a file outside the repository
        cited.update(re.findall(r'docs/design\.md, "([^"]+)"', text))
    assert cited, "no references found: the pattern is wrong"
    assert sorted(cited - headings) == []


def test_version_is_defined_once():
    assert importlib.metadata.version("cordswivel") == cordswivel.__version__
    assert not re.search(r'^version = "', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert all(hasattr(cordswivel, name) for name in cordswivel.__all__)
