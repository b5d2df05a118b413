"""The package's shape: stages import only stages below them, modules import each other one way, stay
small, and their references resolve."""

from __future__ import annotations

import ast
import importlib.metadata
import re
from pathlib import Path

import pytest

import cordswivel

PACKAGE = Path(cordswivel.__file__).parent
ROOT = PACKAGE.parents[1]
# the pipeline's stages, lowest first: each may import the ones before it and the shared helpers
STAGES = ["corpus", "counting", "training", "embedding", "tutorial", "explorer", "pipeline"]
HELPERS = {"config", "errors", "fileio", "logs", "data", "lazy", "jitcache"}  # import only each other
INTERFACE = {"cli", "options", "commands"}  # the command line, over everything
MODULES = sorted(
    ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
    for p in PACKAGE.rglob("*.py")
    if p != PACKAGE / "__init__.py"
)


def module_path(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(module: str, *, lazy: bool) -> set[str]:
    """Package modules that ``module`` imports: when it is imported, or also inside functions (``lazy``);
    never those under ``if TYPE_CHECKING:``, which do not run."""
    package = module.split(".") if module_path(module).name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if is_type_checking(node):
                continue
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                stem = [*base, *(node.module.split(".") if node.module else [])]
                if node.module:
                    found.add(".".join(stem))
                found.update(".".join([*stem, alias.name]) for alias in node.names)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                found.update(n.removeprefix("cordswivel.") for n in names if n and n.startswith("cordswivel."))
            if lazy or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(ast.iter_child_nodes(node))

    visit(ast.parse(module_path(module).read_text()).body)
    return found & set(MODULES)


def stage_of(module: str) -> str:
    return module.split(".")[0]


def test_every_module_has_a_place():
    assert {stage_of(m) for m in MODULES} == set(STAGES) | HELPERS | INTERFACE
    assert all(module_path(stage).name == "__init__.py" for stage in STAGES)


def test_stages_import_only_stages_below_them():
    """corpus -> counting -> training -> embedding -> uses: no stage reaches up, lazy imports included."""
    rank = {stage: k for k, stage in enumerate(STAGES)}
    wrong = []
    for module in MODULES:
        here = stage_of(module)
        for imported in imports(module, lazy=True):
            there = stage_of(imported)
            if here in HELPERS:
                ok = there in HELPERS
            elif here in rank:
                ok = there in HELPERS or (there in rank and rank[there] <= rank[here])
            else:
                ok = True
            if not ok:
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_imports_form_no_cycle():
    graph = {m: imports(m, lazy=False) for m in MODULES}
    lazy_graph = {m: imports(m, lazy=True) for m in MODULES}
    for g in (graph, lazy_graph):
        done, active = set(), []

        def visit(module, g=g):
            if module in active:
                pytest.fail("import cycle: " + " -> ".join([*active[active.index(module) :], module]))
            if module in done:
                return
            active.append(module)
            for imported in sorted(g[module]):
                visit(imported)
            active.pop()
            done.add(module)

        for module in MODULES:
            visit(module)
    # training reads shards without Numba
    assert graph["counting.shards"] <= {"config", "errors", "fileio", "counting.vocab"}
    assert not {"embedding.hub", "embedding.vectors"} & lazy_graph["embedding.layers"]


@pytest.mark.parametrize("module", [m for m in MODULES if module_path(m).name != "__init__.py"])
def test_modules_stay_small_and_have_a_test_module(module):
    assert len(module_path(module).read_text().splitlines()) <= 500
    assert (ROOT / "tests" / f"test_{module.split('.')[-1]}.py").is_file()


def test_module_names_are_unique():
    """Tests are named after their module's name, so no two modules share one."""
    stems = [m.split(".")[-1] for m in MODULES if module_path(m).name != "__init__.py"]
    assert len(stems) == len(set(stems))


def test_design_references_resolve():
    headings = set(re.findall(r"^#+ (.+)$", (ROOT / "docs" / "design.md").read_text(), flags=re.M))
    cited = set()
    sources = [*PACKAGE.rglob("*.py"), ROOT / "tests" / "helpers.py", *sorted((ROOT / "tests").glob("test_*.py"))]
    for path in sources:
        text = path.read_text()
        assert not path.is_relative_to(PACKAGE) or "DESIGN.md" not in text, path  # a file outside the repository
        cited.update(re.findall(r'docs/design\.md, "([^"]+)"', text))
    assert cited, "no references found: the pattern is wrong"
    assert sorted(cited - headings) == []


def test_version_is_defined_once():
    assert importlib.metadata.version("cordswivel") == cordswivel.__version__
    assert not re.search(r'^version = "', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert all(hasattr(cordswivel, name) for name in cordswivel.__all__)


@pytest.mark.parametrize("stage", STAGES)
def test_stages_export_what_they_list(stage):
    package = importlib.import_module(f"cordswivel.{stage}")
    assert package.__doc__ and package.__all__
    assert all(getattr(package, name) is not None for name in package.__all__)
