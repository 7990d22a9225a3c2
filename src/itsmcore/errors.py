"""The exception hierarchy: one base, :class:`ItsmError`, and a typed subclass per failure.

Why: a host catches ``ic.ItsmError`` once and still tells the cases apart by type, and
each error carries its context in attributes (not only in the message), so a web layer
can turn it into a structured response. Where it helps, an error also subclasses the
builtin it refines (``ValidationError`` is a ``ValueError``), so generic handlers work.

Every message says how to fix the input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "ChainBroken",
    "ClaimTaken",
    "ConcurrencyError",
    "Forbidden",
    "GuardFailed",
    "InvalidTransition",
    "ItsmError",
    "NoBusinessTime",
    "NotFound",
    "SpecError",
    "StorageBusy",
    "StorageError",
    "StorageUnavailable",
    "ValidationError",
    "did_you_mean",
]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ItsmError(Exception):
    """Base of every error itsmcore raises on purpose."""


class ValidationError(ItsmError, ValueError):
    """Input that cannot be accepted; nothing was changed.

    ``errors`` lists every problem found at once as ``(path, message)`` pairs, where the
    path uses the ``$.field[0]`` form (``$`` is the input as a whole).
    """

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors: tuple[tuple[str, str], ...] = tuple(errors)
        lines = "; ".join(f"{path}: {msg}" for path, msg in self.errors)
        super().__init__(f"invalid input: {lines}" if lines else "invalid input")

    def __reduce__(self) -> tuple[type[ValidationError], tuple[tuple[tuple[str, str], ...]]]:
        return (type(self), (self.errors,))  # picklable: errors cross process pools

    @classmethod
    def single(cls, path: str, message: str) -> ValidationError:
        """Build an error with one ``(path, message)`` pair."""
        return cls([(path, message)])


class SpecError(ItsmError, ValueError):
    """A process spec (or policy, calendar set, matrix) that cannot be compiled or loaded.

    ``problems`` lists every problem found, each naming the offending ids.
    """

    def __init__(self, spec: str, problems: Sequence[str]) -> None:
        self.spec = spec
        self.problems: tuple[str, ...] = tuple(problems)
        joined = "; ".join(self.problems)
        super().__init__(f"spec {spec!r} is invalid: {joined}")

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.spec, self.problems))


class InvalidTransition(ItsmError):
    """An event that is not allowed from the record's current state. Nothing was saved."""

    def __init__(self, state: str, event: str, allowed: Sequence[str], process: str = "") -> None:
        self.state = state
        self.event = event
        self.allowed: tuple[str, ...] = tuple(allowed)
        self.process = process
        where = f"{process} " if process else ""
        hint = did_you_mean(event, self.allowed)
        allowed_txt = ", ".join(self.allowed) if self.allowed else "none (the state is terminal)"
        super().__init__(
            f"{where}event {event!r} is not allowed in state {state!r}{hint}; "
            f"allowed events: {allowed_txt}"
        )

    def __reduce__(
        self,
    ) -> tuple[type[InvalidTransition], tuple[str, str, tuple[str, ...], str]]:
        return (type(self), (self.state, self.event, self.allowed, self.process))


class GuardFailed(ItsmError):
    """A guard on an allowed transition said no. Nothing was saved.

    ``guard`` is the registered name of the guard, ``reason`` says why and what to change.
    """

    def __init__(self, guard: str, reason: str) -> None:
        self.guard = guard
        self.reason = reason
        super().__init__(f"guard {guard!r} failed: {reason}")

    def __reduce__(self) -> tuple[type[GuardFailed], tuple[str, str]]:
        return (type(self), (self.guard, self.reason))


class Forbidden(ItsmError, PermissionError):
    """An authorization rule or hook refused the action. Nothing was saved.

    ``by`` names the rule or plugin that said no.
    """

    def __init__(self, message: str, *, by: str = "", actor: str = "", event: str = "") -> None:
        self.by = by
        self.actor = actor
        self.event = event
        super().__init__(message)


class ConcurrencyError(ItsmError):
    """A save found a newer version than the caller expected; nothing was overwritten.

    Reload the record and retry. ``expected`` is the version the caller based its change
    on, ``actual`` the version stored now (equal when the stored record is at that
    version but with another history: the change was computed from a snapshot the store
    does not hold).
    """

    def __init__(self, expected: int, actual: int, record_id: str = "") -> None:
        self.expected = expected
        self.actual = actual
        self.record_id = record_id
        who = f"record {record_id!r}: " if record_id else ""
        if expected == actual:  # the version matches, the chain does not
            super().__init__(
                f"{who}the stored version {actual} has another history than the one "
                "this change extends; reload the record and retry"
            )
            return
        super().__init__(
            f"{who}expected version {expected} but the stored version is {actual}; "
            "reload the record and retry"
        )

    def __reduce__(self) -> tuple[type[ConcurrencyError], tuple[int, int, str]]:
        return (type(self), (self.expected, self.actual, self.record_id))


class ClaimTaken(ItsmError):
    """An ``append`` carrying claims found one of their keys taken; nothing was written.

    Another worker claimed the same piece of work (a cadence occurrence) first, and its
    claim was committed with what it wrote: this writer's work is done by that one.
    ``keys`` are the taken keys.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        super().__init__(f"already claimed by another worker: {', '.join(self.keys)}")

    def __reduce__(self) -> tuple[type[ClaimTaken], tuple[tuple[str, ...]]]:
        return (type(self), (self.keys,))


class NotFound(ItsmError, LookupError):
    """An unknown record, process, policy, calendar or other name."""


class NoBusinessTime(ItsmError):
    """A business calendar has no open time where some is needed (e.g. ``add`` on a
    calendar with no hours): raised at once instead of looping for ever."""


class ChainBroken(ItsmError):
    """An event history whose hash chain does not verify.

    ``version`` is the first version at which the chain breaks (an edited, reordered,
    dropped or inserted event).
    """

    def __init__(self, version: int, reason: str) -> None:
        self.version = version
        self.reason = reason
        super().__init__(f"hash chain broken at version {version}: {reason}")

    def __reduce__(self) -> tuple[type[ChainBroken], tuple[int, str]]:
        return (type(self), (self.version, self.reason))


class StorageError(ItsmError):
    """A storage adapter failed (a corrupt or foreign file, a schema from a newer version).

    Adapters translate their driver's errors into this family in one place.
    """


class StorageBusy(StorageError):
    """The store stayed locked past its timeout. Retryable: nothing was written."""

    retryable = True


class StorageUnavailable(StorageError):
    """The store could not be reached, or the connection to it was lost mid-operation (a
    server restart or failover, a network cut, a terminated session, no pooled
    connection free in time). Retryable: reload what you were changing, then retry.

    ``outcome_unknown`` is True when the connection was lost while a write was being
    committed, so it may have been stored. Deciding again from the reloaded record is
    safe either way: a save that did commit made the old ``expected_version`` stale, so
    repeating it raises ``ConcurrencyError`` instead of writing twice.
    """

    retryable = True

    def __init__(self, message: str, *, outcome_unknown: bool = False) -> None:
        self.outcome_unknown = outcome_unknown
        super().__init__(message)
