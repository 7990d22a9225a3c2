"""Cached strategies the state machines draw from at every step (private).

Why cached: a machine draws several values per step, and building (and validating) a
strategy costs far more than drawing from one, so each shape is built once.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any, Final, TypeVar, cast

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from itsmcore.testing.strategies import DEFAULT_ACTOR_IDS, time_gaps

__all__ = [
    "ACTOR_IDS",
    "BACK",
    "GAPS",
    "RUN",
    "choice",
    "disallowed_events",
    "indices",
    "subsets",
]

_T = TypeVar("_T")

#: Gaps between consecutive events (zero included).
GAPS: Final = time_gaps()
#: How many allowed events one rule fires in a row.
RUN: Final = st.integers(1, 5)
#: Actor ids, from a small pool.
ACTOR_IDS: Final = st.sampled_from(DEFAULT_ACTOR_IDS)
#: How far before a record's last event a back-dated attempt is (1 µs to 30 days).
BACK: Final = st.integers(1, 30 * 86_400 * 1_000_000).map(lambda us: timedelta(microseconds=us))
#: Event names no spec should allow: reserved, misspelt, empty, or random.
MADE_UP: Final = st.sampled_from(
    ("open", "link", "unlink", "no_such_event", "Assign", "")
) | st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)


@functools.lru_cache(maxsize=4096)
def _cached_choice(options: tuple[Any, ...]) -> SearchStrategy[Any]:
    return st.sampled_from(options)


def choice(options: tuple[_T, ...]) -> SearchStrategy[_T]:
    """``sampled_from(options)``, built once per tuple."""
    return cast("SearchStrategy[_T]", _cached_choice(options))


@functools.lru_cache(maxsize=256)
def subsets(roles: tuple[str, ...]) -> SearchStrategy[frozenset[str]]:
    """Any subset of ``roles``."""
    return st.frozensets(st.sampled_from(roles))


@functools.lru_cache(maxsize=1024)
def disallowed_events(declared: tuple[str, ...]) -> SearchStrategy[str]:
    """One of ``declared`` (events declared for other states) or a made-up name."""
    return st.sampled_from(declared) | MADE_UP if declared else MADE_UP


@functools.lru_cache(maxsize=64)
def indices(count: int) -> SearchStrategy[int]:
    """An index into a sequence of ``count`` items."""
    return st.integers(0, count - 1)
