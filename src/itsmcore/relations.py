"""Link kinds between records, which processes each may connect, and the impact query.

Why data: a link (:class:`~itsmcore.records.Link`) is a typed, audited fact stored on both
records. Which kinds exist and which processes they may join is a table, not code, so a
host extends it without touching the engine (:meth:`LinkRules.extended`, then
``Engine(..., link_rules=...)``).

Direction. A link reads "*source* ``kind`` *target*": ``INC-1 caused_by PRB-1``,
``CHG-1 affects CI-1``, ``CI-app depends_on CI-db``. A kind may have an ``inverse`` name
(``fixes`` for ``fixed_by``): linking with the inverse name stores the canonical kind
with the ends swapped, so one fact has one form and queries need to know only one name
(like Jira's outward/inward link descriptions).

Impact. ``dependant`` says which end of a link depends on the other, so a problem at
one end reaches the other:

- ``depends_on`` and ``runs_on``: the *source* depends on the target. If A depends_on B,
  then ``impact(B)`` contains A with the path ``(B, A)``.
- ``part_of``: the *target* (the whole) depends on its parts. If disk part_of server,
  ``impact(disk)`` contains the server; ``impact(server)`` does not contain the disk.
- ``connected_to``: symmetric; each end depends on the other.
- ``redundant_with`` and every non-CI kind (``caused_by``, ``affects``...): no impact
  flows along them.

:func:`impact` is pure: it reads records only through the ``load`` callable it is given.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final

import attrs

from itsmcore.errors import SpecError, ValidationError, did_you_mean
from itsmcore.records import Link, Record

__all__ = [
    "DEFAULT_LINK_RULES",
    "DEPENDANT_ENDS",
    "ImpactedItem",
    "LinkKind",
    "LinkPlacement",
    "LinkRules",
    "impact",
    "kinds_table",
]

#: Values of :attr:`LinkKind.dependant`: which end depends on the other.
DEPENDANT_ENDS: Final = frozenset({"source", "target", "both"})

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ANY: Final = "*"


def _pairs(value: Iterable[Iterable[str]]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for pair in value:
        items = tuple(pair)
        out.append((items[0], items[1]) if len(items) == 2 else ("", ""))
    return tuple(out)


@attrs.frozen(slots=True)
class LinkKind:
    """One kind of link and the process pairs it may connect.

    - ``pairs``: ``(source process, target process)`` pairs; ``"*"`` matches any process.
    - ``inverse``: an optional second name read from the target's side (``fixes`` for
      ``fixed_by``); linking with it stores this kind with the ends swapped.
    - ``dependant``: which end depends on the other for :func:`impact` (``"source"``,
      ``"target"``, ``"both"``) or ``None`` when no impact flows along the link.
    - ``symmetric``: A→B and B→A are the same fact (``connected_to``); the second is a
      duplicate.

    Raises :class:`SpecError` listing every problem of a malformed kind.
    """

    name: str
    pairs: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs)
    inverse: str | None = None
    dependant: str | None = None
    symmetric: bool = False
    description: str = ""

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            problems.append(f"link kind {self.name!r} must be lower_snake_case, at most 64 chars")
        if self.inverse is not None and (
            not isinstance(self.inverse, str)
            or not _NAME.match(self.inverse)
            or self.inverse == self.name
        ):
            problems.append(f"inverse {self.inverse!r} must be another lower_snake_case name")
        if self.symmetric and self.inverse is not None:
            problems.append("a symmetric kind reads the same both ways: drop its inverse")
        if self.dependant is not None and self.dependant not in DEPENDANT_ENDS:
            problems.append(
                f"dependant {self.dependant!r} must be one of "
                f"{', '.join(sorted(DEPENDANT_ENDS))} or None"
            )
        if self.symmetric and self.dependant not in (None, "both"):
            problems.append("a symmetric kind's dependant end must be 'both' or None")
        if not self.pairs:
            problems.append("give at least one (source process, target process) pair")
        for i, (src, dst) in enumerate(self.pairs):
            for end in (src, dst):
                if end != _ANY and (not isinstance(end, str) or not _NAME.match(end)):
                    problems.append(f"pairs[{i}]: {end!r} is not a process name or '*'")
        if problems:
            raise SpecError(f"link kind {self.name}", problems)

    def allows(self, source_process: str, target_process: str) -> bool:
        """True when a link of this kind may go from a ``source_process`` record to a
        ``target_process`` record (for symmetric kinds, either way round)."""
        for src, dst in self.pairs:
            if src in (_ANY, source_process) and dst in (_ANY, target_process):
                return True
            if self.symmetric and src in (_ANY, target_process) and dst in (_ANY, source_process):
                return True
        return False

    def describe_pairs(self) -> str:
        """The allowed pairs as text: ``incident → problem, incident → change``."""
        return ", ".join(f"{src} → {dst}" for src, dst in self.pairs)


@attrs.frozen(slots=True)
class LinkPlacement:
    """Where a requested link goes: the canonical kind and the records at each end."""

    kind: LinkKind
    source: Record
    target: Record


class LinkRules:
    """The link kinds an engine accepts, by name (and by inverse name).

    Immutable: :meth:`extended` returns a new set. Raises :class:`SpecError` when two
    kinds share a name or an inverse name.
    """

    __slots__ = ("_by_name", "_kinds")

    def __init__(self, kinds: Iterable[LinkKind] = ()) -> None:
        self._kinds: dict[str, LinkKind] = {}
        problems: list[str] = []
        for kind in kinds:
            if kind.name in self._kinds:
                problems.append(f"link kind {kind.name!r} is declared twice")
            self._kinds[kind.name] = kind
        self._by_name: dict[str, tuple[LinkKind, bool]] = {}
        for kind in self._kinds.values():
            for name, inverted in ((kind.name, False), (kind.inverse, True)):
                if name is None:
                    continue
                if name in self._by_name:
                    problems.append(f"the name {name!r} is used by two link kinds")
                self._by_name[name] = (kind, inverted)
        if problems:
            raise SpecError("link rules", problems)

    def __iter__(self) -> Iterator[LinkKind]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"LinkRules({', '.join(self._kinds)})"

    def names(self) -> tuple[str, ...]:
        """Every accepted name, canonical and inverse, sorted."""
        return tuple(sorted(self._by_name))

    def get(self, name: str) -> LinkKind | None:
        """The kind stored under the canonical ``name``, or ``None``."""
        return self._kinds.get(name)

    def extended(self, *kinds: LinkKind) -> LinkRules:
        """A new set with ``kinds`` added. A kind whose name already exists adds its
        pairs to the existing kind; its other attributes must then be equal (else
        :class:`SpecError`: declare a new kind instead)."""
        merged = dict(self._kinds)
        for kind in kinds:
            old = merged.get(kind.name)
            if old is None:
                merged[kind.name] = kind
                continue
            same = (old.inverse, old.dependant, old.symmetric) == (
                kind.inverse,
                kind.dependant,
                kind.symmetric,
            )
            if not same:
                raise SpecError(
                    f"link kind {kind.name}",
                    [
                        "extending an existing kind may add pairs only; its inverse, "
                        "dependant end and symmetry must stay as they are"
                    ],
                )
            pairs = old.pairs + tuple(p for p in kind.pairs if p not in old.pairs)
            merged[kind.name] = attrs.evolve(old, pairs=pairs)
        return LinkRules(merged.values())

    def kind(self, name: str) -> tuple[LinkKind, bool]:
        """The kind called ``name`` and whether ``name`` is its inverse.

        Raises ``ValidationError`` naming the known kinds for an unknown name.
        """
        found = self._by_name.get(name) if isinstance(name, str) else None
        if found is None:
            hint = did_you_mean(str(name), self._by_name)
            raise ValidationError.single(
                "$.kind",
                f"unknown link kind {name!r}{hint}; known kinds: {', '.join(self.names())} "
                "(a host adds kinds with Engine(..., link_rules=DEFAULT_LINK_RULES"
                ".extended(LinkKind(...))))",
            )
        return found

    def place(self, name: str, source: Record, target: Record) -> LinkPlacement:
        """Check a requested link ``source name target`` and return its canonical form.

        Raises ``ValidationError`` for an unknown kind, a process pair the kind does not
        allow (naming the allowed pairs), or a symmetric link that already exists the
        other way round.
        """
        kind, inverted = self.kind(name)
        if inverted:
            source, target = target, source
        if not kind.allows(source.process, target.process):
            asked = f"{source.process} → {target.process}"
            raise ValidationError.single(
                "$.kind",
                f"{kind.name!r} cannot link {asked} ({source.id} → {target.id}); it links "
                f"{kind.describe_pairs()}",
            )
        if kind.symmetric and any(
            x.kind == kind.name and x.source == target.id and x.target == source.id
            for x in source.links
        ):
            raise ValidationError.single(
                "$.link",
                f"{kind.name} {target.id} -> {source.id} already exists "
                "(the kind is symmetric, so it is the same link)",
            )
        return LinkPlacement(kind=kind, source=source, target=target)

    def dependants(self, record: Record, kinds: frozenset[str] | None = None) -> list[Link]:
        """The links of ``record`` along which a problem at ``record`` reaches the other
        end, in the record's link order (``kinds`` restricts the canonical kinds)."""
        out: list[Link] = []
        for link in record.links:
            kind = self._kinds.get(link.kind)
            if kind is None or kind.dependant is None:
                continue
            if kinds is not None and link.kind not in kinds:
                continue
            # The other end depends on this record when this record is the end that
            # is depended upon: the target of a "source" kind, the source of a "target"
            # kind, either end of a "both" kind.
            depended_upon = {"source": link.target, "target": link.source}.get(
                kind.dependant, record.id
            )
            if depended_upon == record.id:
                out.append(link)
        return out


@attrs.frozen(slots=True)
class ImpactedItem:
    """A record reached by :func:`impact`: ``path`` runs from the queried record to this
    one (both included), ``kinds`` are the link kinds along it (one fewer)."""

    record: Record
    path: tuple[str, ...]
    kinds: tuple[str, ...]

    @property
    def id(self) -> str:
        """The reached record's id (the last element of ``path``)."""
        return self.record.id

    @property
    def depth(self) -> int:
        """How many links away from the queried record (1 = directly dependent)."""
        return len(self.kinds)


def impact(
    record_id: str,
    load: Callable[[str], Record],
    *,
    rules: LinkRules | None = None,
    kinds: Iterable[str] | None = None,
    max_depth: int | None = None,
) -> tuple[ImpactedItem, ...]:
    """Everything that depends on ``record_id``, transitively, each with a shortest path.

    Breadth-first over the links whose kind has a ``dependant`` end (see the module
    docstring for the direction of each kind); every record appears once, the queried
    record never, and cycles end the walk instead of looping. Results are ordered by
    distance, then by id. ``kinds`` restricts the walk to some canonical kinds;
    ``max_depth`` bounds the distance. Records of every state are included (filter on
    ``item.record.state``).

    ``load`` returns a record by id and raises ``NotFound`` (so does this function for
    an unknown ``record_id``). Raises ``ValidationError`` for an unknown kind in
    ``kinds`` or a ``max_depth`` below 1.
    """
    table = rules if rules is not None else DEFAULT_LINK_RULES
    only: frozenset[str] | None = None
    if kinds is not None:
        only = frozenset([kinds] if isinstance(kinds, str) else kinds)
        unknown = sorted(k for k in only if table.get(k) is None)
        if unknown:
            raise ValidationError.single(
                "$.kinds",
                f"unknown link kinds {', '.join(unknown)}; use canonical kind names: "
                f"{', '.join(k.name for k in table)}",
            )
    if max_depth is not None and (
        isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1
    ):
        raise ValidationError.single("$.max_depth", "must be a whole number of at least 1")
    root = load(record_id)
    seen = {root.id}
    found: list[ImpactedItem] = []
    frontier: deque[tuple[Record, tuple[str, ...], tuple[str, ...]]] = deque(
        [(root, (root.id,), ())]
    )
    while frontier:
        record, path, via = frontier.popleft()
        if max_depth is not None and len(via) >= max_depth:
            continue
        step: dict[str, str] = {}
        for link in table.dependants(record, only):
            other = link.other(record.id)
            if other not in seen and other not in step:
                step[other] = link.kind
        for other in sorted(step):
            seen.add(other)
            item = ImpactedItem(record=load(other), path=(*path, other), kinds=(*via, step[other]))
            found.append(item)
            frontier.append((item.record, item.path, item.kinds))
    found.sort(key=lambda item: (item.depth, item.id))
    return tuple(found)


def _pairs_from(sources: str, targets: str) -> list[tuple[str, str]]:
    """Every (source, target) pair of two space-separated process lists, minus a
    process linked to itself."""
    return [(a, b) for a in sources.split() for b in targets.split() if a != b]


_CI = "configuration_item"
_CI_PAIR = [(_CI, _CI)]
_SAME = [(p, p) for p in ("incident", "service_request", "problem", "security_incident")]
_ARTICLE = _pairs_from(
    "knowledge_article",
    f"incident problem known_error security_incident service_request change {_CI}",
)

#: The built-in vocabulary (ITIL practice, the seed's RX-04 and R4.2-04): name, inverse,
#: dependant end, symmetric, pairs, description.
_Row = tuple[str, str | None, str | None, bool, list[tuple[str, str]], str]
_VOCABULARY: Final[tuple[_Row, ...]] = (
    ("caused_by", "causes", None, False,
     _pairs_from("incident security_incident problem", "problem change"),
     "The source was caused by the target (a problem, or a failed change)."),
    ("matches", "matched_by", None, False,
     _pairs_from("incident security_incident", "known_error"),
     "The incident shows the symptoms of the known error."),
    ("documents", "documented_by", None, False, [("known_error", "problem"), *_ARTICLE],
     "The source records what was learnt about the target."),
    ("fixed_by", "fixes", None, False,
     _pairs_from("problem known_error incident security_incident", "change"),
     "The target change removes the source's cause."),
    ("affects", "affected_by", None, False,
     _pairs_from(
         "incident problem known_error change release security_incident service_request", _CI
     ),
     "The source concerns or alters the configuration item."),
    ("ships", "shipped_in", None, False, [("release", "change")],
     "The release deploys the change."),
    ("resolved_with", "used_to_resolve", None, False,
     _pairs_from("incident service_request problem", "knowledge_article"),
     "The article was used to resolve the source (seed R5.3-05)."),
    ("duplicate_of", "duplicated_by", None, False, _SAME,
     "The source reports the same thing as the target."),
    ("follow_up_of", "followed_up_by", None, False, [(_ANY, _ANY)],
     "The source was opened to follow up the target (closed loops, RX-04)."),
    ("depends_on", "depended_on_by", "source", False, _CI_PAIR,
     "The source needs the target to work."),
    ("runs_on", "hosts", "source", False, _CI_PAIR,
     "The source (software, a VM) runs on the target (a host, a platform)."),
    ("part_of", "has_part", "target", False, _CI_PAIR,
     "The source is a component of the target; the whole depends on it."),
    ("connected_to", None, "both", True, _CI_PAIR,
     "A network or data connection; each end depends on the other."),
    ("redundant_with", None, None, True, _CI_PAIR,
     "The items back each other up (a cluster, a pool); no impact flows."),
)  # fmt: skip


#: The built-in link kinds. Extend with :meth:`LinkRules.extended`.
DEFAULT_LINK_RULES: Final = LinkRules(
    LinkKind(name, pairs, inverse=inverse, dependant=dependant, symmetric=sym, description=text)
    for name, inverse, dependant, sym, pairs, text in _VOCABULARY
)


def kinds_table(rules: LinkRules | None = None) -> Mapping[str, str]:
    """Each canonical kind with its allowed pairs as text (for docs and error pages)."""
    table = rules if rules is not None else DEFAULT_LINK_RULES
    return {kind.name: kind.describe_pairs() for kind in table}
