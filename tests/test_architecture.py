"""The package's seams, read from the source with `ast` (nothing is imported): ingestion code
never reaches the simulated outside world, and no module outgrows one job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "ingestion"
SIMULATORS = "ingestion.simulators"
INGESTION_CODE = ("ingestion.sources", "ingestion.loading")
MAX_MODULE_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (also inside functions), with
    relative imports resolved."""
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
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = {name: imported_modules(path) for name, path in MODULES.items()}


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


def test_no_module_is_longer_than_one_job() -> None:
    too_long = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"split these by concern (at most {MAX_MODULE_LINES} lines): {too_long}"
