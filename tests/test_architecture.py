"""The package's seams, read from the source with `ast` (nothing is imported): every import goes
down the layers of docs/architecture.md, no import chain comes back to where it started,
ingestion code never reaches the simulated outside world, and no module (of the package or of
its tests) outgrows one job; no test borrows another folder's conftest or a test module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "ingestion"
SIMULATORS = "ingestion.simulators"
INGESTION_CODE = ("ingestion.sources", "ingestion.loading")
MAX_MODULE_LINES = 450

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(rooms.split())
    for rooms in (
        # top first: a room imports only rooms of the layers below its own (docs/architecture.md)
        "cli benchmarking",  # entry points: the commands, the benchmarks
        "monitoring conventions",  # after a run: alerts, status; the project's own rules
        "stage_runner",  # `shopflow run`: the stages in order, under one lock
        "reporting lake spark features",  # consumers of the built warehouse
        "exports",  # answer files (the lake writes the same formats)
        "semantic",  # the metrics (MetricFlow) compiled to SQL on the warehouse
        "transform loading streaming",  # dbt; dlt pipelines, audit rows; the stream consumer
        "sources simulators",  # dlt sources; the simulated outside world
        "database",  # connections, the local server, roles
        "settings atomic_write root_cause interrupts",  # foundation: no ingestion imports
    )
)
"""The one place the allowed directions are written; every room of ``ingestion`` is in it."""


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (also inside functions and
    ``TYPE_CHECKING`` blocks), with relative imports resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up one per extra dot
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            found.update(names)
            # `from package import module` runs the package's __init__ but uses only the module
            if not all(name in MODULES for name in names):
                found.add(base)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = {name: imported_modules(path) for name, path in MODULES.items()}


def room(module: str) -> str:
    """``ingestion.loading.runner`` -> ``loading``; a top module is a room of its own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer(module: str) -> int:
    return next(index for index, rooms in enumerate(LAYERS) if room(module) in rooms)


def upward_or_sideways(imports: dict[str, set[str]]) -> list[str]:
    """Every import from one room into another that is not in a lower layer."""
    return [
        f"{importer} -> {imported} ({room(importer)} may not import {room(imported)})"
        for importer, modules in sorted(imports.items())
        for imported in sorted(modules)
        if imported in MODULES
        and room(imported) != room(importer)
        and layer(imported) <= layer(importer)
    ]


def cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The module import cycles (strongly connected components of two or more modules, or
    a module importing itself), found with Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(imports.get(module, ())):
            if imported not in MODULES or imported == "ingestion":
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(component) > 1 or module in imports.get(module, ()):
                found.append(sorted(component))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return found


ROOM_MODULES = {name: imports for name, imports in IMPORTS.items() if name != "ingestion"}


def test_every_room_has_a_layer() -> None:
    rooms = {room(name) for name in ROOM_MODULES}
    listed = set().union(*LAYERS)
    assert rooms - listed == set(), "add the new room to LAYERS (and to docs/architecture.md)"
    assert listed - rooms == set(), "LAYERS names a room that no longer exists"


def test_imports_only_go_down_the_layers() -> None:
    wrong = upward_or_sideways(ROOM_MODULES)
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    found = cycles(ROOM_MODULES)
    assert not found, f"import cycles: {found}"


def test_the_layering_checks_can_fail() -> None:
    """An upward import, a sideways one and a cycle, made up, are each caught."""
    assert upward_or_sideways({"ingestion.database.admin": {"ingestion.loading.runner"}})
    assert upward_or_sideways({"ingestion.lake.export": {"ingestion.spark.build"}})
    assert not upward_or_sideways({"ingestion.lake.export": {"ingestion.loading.audit"}})
    assert cycles(
        {"ingestion.loading.runner": {"ingestion.loading.refresh"}}
        | {"ingestion.loading.refresh": {"ingestion.loading.runner"}}
    ) == [["ingestion.loading.refresh", "ingestion.loading.runner"]]


def reaches(start: str, target: str) -> list[str] | None:
    """An import chain inside the package from `start` to a module under `target`, if any."""
    chains = {start: [start]}
    pending = [start]
    while pending:
        current = pending.pop()
        for imported in sorted(IMPORTS.get(current, ())):
            if imported == target or imported.startswith(f"{target}."):
                return [*chains[current], imported]
            if imported in MODULES and imported not in chains:
                chains[imported] = [*chains[current], imported]
                pending.append(imported)
    return None


@pytest.mark.parametrize(
    "name", [name for name in MODULES if name.startswith(INGESTION_CODE)], ids=str
)
def test_ingestion_code_never_imports_the_simulators(name: str) -> None:
    chain = reaches(name, SIMULATORS)
    assert chain is None, "ingestion code reaches the simulators: " + " -> ".join(chain or [])


def test_the_import_reader_sees_what_it_must() -> None:
    """The check above can fail: the CLI does import the simulators."""
    assert reaches("ingestion.cli.simulate", SIMULATORS)
    assert len([name for name in MODULES if name.startswith(INGESTION_CODE)]) > 20


def longer_than_one_job(paths: list[Path]) -> dict[str, int]:
    return {
        str(path.relative_to(REPO_ROOT)): lines
        for path in paths
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }


def test_no_module_is_longer_than_one_job() -> None:
    too_long = longer_than_one_job(list(MODULES.values()))
    assert not too_long, f"split these by concern (at most {MAX_MODULE_LINES} lines): {too_long}"


# The tests mirror the package and keep to the same sizes: a test module shares helpers through
# a plain helper module and fixtures through the conftest of a common ancestor, never by
# importing another folder's conftest or another test module (pytest would collect the
# imported tests twice, and a fixture imported by name hides where it comes from).
TEST_MODULES = {module_name(path): path for path in sorted((REPO_ROOT / "tests").rglob("*.py"))}


def test_no_test_module_is_longer_than_one_job() -> None:
    too_long = longer_than_one_job(list(TEST_MODULES.values()))
    assert not too_long, f"split these by subject (at most {MAX_MODULE_LINES} lines): {too_long}"


def borrowed_test_code(importer: str, imported: set[str]) -> list[str]:
    """What `importer` takes from another folder's conftest or from a test module."""
    package = importer.rsplit(".", 1)[0]

    def borrowed(name: str) -> bool:
        parts = name.split(".")
        if parts[0] != "tests":
            return False
        if "conftest" in parts:
            return ".".join(parts[: parts.index("conftest")]) != package
        return any(part.startswith("test_") for part in parts)

    return sorted(name for name in imported if borrowed(name))


def test_no_test_borrows_another_folders_conftest_or_a_test_module() -> None:
    borrowed = {
        name: found
        for name, path in TEST_MODULES.items()
        if (found := borrowed_test_code(name, imported_modules(path)))
    }
    assert not borrowed, f"move these into a helper module or a shared conftest: {borrowed}"


def test_the_test_import_check_can_fail() -> None:
    """Made-up imports of each kind are caught; a folder's own conftest and helpers are not."""
    assert borrowed_test_code("tests.spark.test_x", {"tests.pipeline.conftest.built_warehouse"})
    assert borrowed_test_code("tests.cli.test_x", {"tests.conftest", "tests.conftest.free_port"})
    assert borrowed_test_code("tests.pipeline.test_x", {"tests.pipeline.test_report.chromium"})
    assert not borrowed_test_code(
        "tests.reliability.test_x",
        {"tests.reliability.conftest.new_world", "tests.ports.free_port", "ingestion.settings"},
    )
    assert imported_modules(TEST_MODULES["tests.conftest"]) >= {"tests.worlds.BuiltWarehouse"}
