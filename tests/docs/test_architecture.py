"""The import rules of design.md section 1, checked on the source.

The pure core never imports the engine, adapters, CLI or testing kit, never imports a
database driver, never reads the clock and never touches the disk.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "itsmcore"

PURE_FILES = sorted(
    [
        *(
            SRC / name
            for name in (
                "records.py",
                "spec.py",
                "machine.py",
                "priority.py",
                "errors.py",
                "serialization.py",
                "chain.py",
                "registry.py",
                "diagram.py",
                "_catalog.py",
                "_time.py",
                "_values.py",
                "_inputs.py",
                "_steps.py",
            )
        ),
        *(SRC / "processes").glob("*.py"),
        *(p for p in (SRC / "sla").glob("*.py") if p.name not in {"holidays.py"}),
        *(SRC / "improvement").glob("*.py"),
        *(SRC / "monitoring").glob("*.py"),
    ]
)
FORBIDDEN_MODULES = (
    "itsmcore.engine",
    "itsmcore.adapters",
    "itsmcore.testing",
    "itsmcore.cli",
    "itsmcore.loading",
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "socket",
    "subprocess",
)
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
}
FORBIDDEN_NAMES = {"open", "eval", "exec", "__import__"}


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_core_imports_no_io_engine_or_testing(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [m for m in _imports(tree) if m.startswith(FORBIDDEN_MODULES)]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_core_never_reads_the_clock_or_the_disk(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                assert (func.value.id, func.attr) not in FORBIDDEN_CALLS, (
                    f"{path.name}:{node.lineno} calls {func.value.id}.{func.attr}()"
                )
            if isinstance(func, ast.Name):
                assert func.id not in FORBIDDEN_NAMES, (
                    f"{path.name}:{node.lineno} calls {func.id}()"
                )
            if isinstance(func, ast.Attribute) and func.attr in {
                "read_text",
                "read_bytes",
                "write_text",
                "write_bytes",
            }:
                raise AssertionError(f"{path.name}:{node.lineno} touches the disk")


def test_nothing_in_src_imports_the_testing_kit() -> None:
    for path in SRC.rglob("*.py"):
        if "testing" in path.relative_to(SRC).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad = [m for m in _imports(tree) if m.startswith("itsmcore.testing")]
        assert not bad, f"{path} imports {bad}"


def test_adapters_never_import_the_engine_or_processes() -> None:
    for path in (SRC / "adapters").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad = [m for m in _imports(tree) if m.startswith(("itsmcore.engine", "itsmcore.processes"))]
        assert not bad, f"{path.name} imports {bad}"
