"""The ``itsmcore`` console script.

Why a thin entry point: the core installs with five dependencies; the command line
needs ``click`` and ``rich`` (the ``cli`` extra, included in ``dev``). When they are
missing, :func:`main` prints one line saying how to install them instead of a
traceback. The commands live in :mod:`itsmcore._cli`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["main"]

_HINT = "itsmcore: the command line needs click and rich: pip install 'itsmcore[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``itsmcore`` command with ``argv`` (default: the process's arguments)
    and return the exit code: 0 success, 1 failure, 2 bad usage."""
    missing = [name for name in ("click", "rich") if importlib.util.find_spec(name) is None]
    if missing:
        print(_HINT, file=sys.stderr)
        return 2
    from itsmcore._cli.app import cli

    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="itsmcore")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
