"""The plugin and storage guides stay true to the code."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from itsmcore.ports import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs"
_HEADING = re.compile(r"^#{2,4} (itsmcore_\w+)\(([^)]*)\)\s*$", re.M)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _hooks() -> dict[str, str]:
    """Every hook of hookspecs.py and its argument list as written in a heading."""
    return {
        name: ", ".join(inspect.signature(fn).parameters)
        for name, fn in vars(hookspecs).items()
        if name.startswith("itsmcore_") and hasattr(fn, f"{hookspecs.PROJECT}_spec")
    }


def _documented() -> dict[str, str]:
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    return dict(_HEADING.findall(text))


@pytest.mark.parametrize("hook", sorted(_hooks()))
def test_every_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    assert _documented().get(hook) == _hooks()[hook], (
        f"docs/plugins.md needs a heading '### {hook}({_hooks()[hook]})'"
    )


def test_the_plugin_guide_documents_no_hook_that_does_not_exist() -> None:
    assert set(_documented()) <= set(_hooks())


def test_a_host_runs_the_contract_suite_from_the_storage_guide_in_under_40_lines(
    tmp_path: Path,
) -> None:
    blocks = _BLOCK.findall((DOCS / "storage.md").read_text(encoding="utf-8"))
    (module,) = [b for b in blocks if b.startswith("# file: test_host_storage.py")]
    assert len(module.strip().splitlines()) < 40
    (tmp_path / "test_host_storage.py").write_text(module, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # every rule runs: none skipped (the example declares every capability)
    assert re.search(r"\b5\d passed in\b", result.stdout), result.stdout[-500:]
