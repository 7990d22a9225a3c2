"""The README's and the docs' Python code blocks run, so the examples stay true.

A block runs in a fresh namespace per file, blocks of one file in order (so later blocks
may use names from earlier ones). A block whose first line is ``# doc: no-run`` is skipped
(for fragments that need a host's environment).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _doc_files() -> list[Path]:
    files = [ROOT / "README.md"]
    docs = ROOT / "docs"
    if docs.is_dir():
        files += sorted(p for p in docs.rglob("*.md") if "_generated" not in p.parts)
    return [f for f in files if _BLOCK.search(f.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", _doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_in_docs_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"doc:{path.name}"}
    for i, block in enumerate(_BLOCK.findall(path.read_text(encoding="utf-8"))):
        if block.lstrip().startswith("# doc: no-run"):
            continue
        code = compile(block, f"{path.name}[block {i}]", "exec")
        exec(code, namespace)


def test_readme_names_the_setup_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in text
    assert "\npytest" in text
