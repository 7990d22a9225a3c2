"""The pure part of monitoring imports no engine, adapter or I/O (design.md section 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "itsmcore" / "monitoring"
FORBIDDEN = ("itsmcore.engine", "itsmcore.monitoring_engine", "itsmcore.adapters",
             "itsmcore.testing", "itsmcore.cli", "sqlite3", "psycopg", "socket")  # fmt: skip
CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("time", "time")}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_monitoring_package_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import)
            else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        )
    ]  # fmt: skip
    assert not [m for m in imported if m.startswith(FORBIDDEN)]
    calls = {
        (node.func.value.id, node.func.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    }
    assert not calls & CLOCK
