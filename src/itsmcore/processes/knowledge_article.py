"""The knowledge article process: write, review, publish and keep knowledge current.

ISO/IEC 20000-1 clause 7.5.4 (documented information, knowledge); the seed's R5.3-01/02
(kinds of knowledge), R5.3-03 (periodic review, no stale content), R5.3-05 (knowledge
from resolved records) and R5.1-06 (self-service). States and rules:

- ``draft`` → ``in_review`` (``submit``, requires ``body``) → ``published``
  (``publish``) → ``retired`` (``retire``, requires ``reason``, from any state but
  ``retired``); a reviewer sends an article back with ``reject`` (requires
  ``review_notes``).
- **Four eyes**: ``publish`` needs the role ``knowledge_manager`` (``Forbidden``
  otherwise), and neither the ``author`` nor whoever opened the article may publish it
  (``GuardFailed``) unless ``options["four_eyes"]`` is false. ``reject`` and ``revise``
  carry their own notes (``review_notes``, ``revision_notes``) in the event.
- **Review due** (R5.3-03): publishing sets ``published_at``, ``last_reviewed_at`` and
  ``review_due`` = publish time + the article's ``review_interval`` or
  ``options["review_interval"]`` (default 180 days). The ``review_due`` timer emits a
  signal at that instant while the article is published. A reviewer either ``confirm``-s
  it is still right (``review_due`` moves on by the interval) or ``revise``-s it: a
  revision goes back to ``in_review`` with the changes and is published again (its
  ``revision`` number counts up).
- Content changes only in ``draft`` (``update``) or through ``revise``: a published
  article is never edited silently.
- ``kind`` ∈ :data:`KINDS`. A ``known_error_workaround`` article names its known error
  (the ``known_error`` field or a ``documents`` link) before it is submitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from itsmcore._time import parse_duration
from itsmcore.errors import SpecError, ValidationError
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["AUDIENCES", "DEFAULT_REVIEW_INTERVAL", "KINDS", "SPEC", "review_interval"]

#: Kinds of article. The issue's three (how_to, known_error_workaround, faq) plus the
#: seed's R5.3-01 asset types and R5.3-02 fault-handling guides.
KINDS: Final = (
    "how_to",
    "known_error_workaround",
    "faq",
    "troubleshooting",
    "service_manual",
    "training_material",
)
#: Who may read it: ``self_service`` articles are shown to end users (R5.1-06).
AUDIENCES: Final = ("self_service", "agents", "internal")
#: How long a published article stays current before it is due for review (itsmcore's
#: own default; the seed gives no interval).
DEFAULT_REVIEW_INTERVAL: Final = timedelta(days=180)


def review_interval(ctx: Context) -> timedelta:
    """The article's ``review_interval``, else ``options["review_interval"]`` (a
    ``timedelta``, ISO 8601 text or seconds), else 180 days. A bad option value raises
    :class:`SpecError`; a zero interval is refused (the review would be due at once)."""
    own = ctx.value("review_interval")
    if isinstance(own, timedelta):
        return own
    raw = ctx.options.get("review_interval")
    if raw is None:
        return DEFAULT_REVIEW_INTERVAL
    try:
        value = parse_duration(raw, "options.review_interval")
    except ValidationError as exc:
        raise SpecError(ctx.spec.name, [f"{p}: {m}" for p, m in exc.errors]) from None
    if value <= timedelta(0):
        raise SpecError(ctx.spec.name, ["options.review_interval: must be longer than zero"])
    return value


@BUILTINS.effect("knowledge_article.set_author")
def _set_author(ctx: Context) -> Mapping[str, Any] | None:
    """The author defaults to whoever opens the article."""
    return None if ctx.value("author") is not None else {"author": ctx.actor.id}


@BUILTINS.guard("knowledge_article.positive_interval")
def _positive_interval(ctx: Context) -> str | None:
    """A per-article review interval is longer than zero."""
    value = ctx.changes.get("review_interval")
    if isinstance(value, timedelta) and value <= timedelta(0):
        return "'review_interval' must be longer than zero (e.g. timedelta(days=90))"
    return None


@BUILTINS.guard("knowledge_article.names_known_error")
def _names_known_error(ctx: Context) -> str | None:
    """A workaround article says which known error it works around."""
    if ctx.value("kind") != "known_error_workaround" or ctx.value("known_error"):
        return None
    record = ctx.record
    if record is not None and any(
        link.kind == "documents" and link.source == record.id for link in record.links
    ):
        return None
    return (
        "a known_error_workaround article names its known error: set 'known_error' or "
        "link it with engine.link(article_id, known_error_id, 'documents')"
    )


@BUILTINS.guard("knowledge_article.not_author")
def _not_author(ctx: Context) -> str | None:
    """Four eyes: the author (as recorded before this event, as named by it, and whoever
    opened the article) does not publish their own article."""
    if ctx.options.get("four_eyes", True) is False:
        return None
    record = ctx.record
    writers = {ctx.value("author")}
    if record is not None:
        writers |= {record.get("author"), record.opened_by}
    if ctx.actor.id in writers:
        return (
            f"{ctx.actor.id!r} wrote this article and cannot {ctx.event} it: another "
            "knowledge manager must review it"
        )
    return None


#: The notes an event must carry itself (an earlier event's notes do not count).
_NOTES: Final = {"reject": "review_notes", "revise": "revision_notes"}


@BUILTINS.guard("knowledge_article.notes_given")
def _notes_given(ctx: Context) -> str | None:
    """``reject`` and ``revise`` say why, in this event."""
    name = _NOTES.get(ctx.event)
    value = ctx.changes.get(name) if name else None
    if name and (not isinstance(value, str) or not value.strip()):
        return f"give non-blank '{name}' with {ctx.event!r} saying what must change"
    return None


@BUILTINS.guard("knowledge_article.keeps_content")
def _keeps_content(ctx: Context) -> str | None:
    """The title, kind and (once written) body are never cleared."""
    kept = ["title", "kind"]
    if ctx.record is not None and ctx.record.get("body"):
        kept.append("body")
    cleared = [n for n in kept if n in ctx.changes and ctx.changes[n] in (None, "")]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value instead"
    return None


@BUILTINS.effect("knowledge_article.publish")
def _publish(ctx: Context) -> Mapping[str, Any] | None:
    """Stamp the publication and schedule the next review."""
    assert ctx.record is not None
    return {
        "published_at": ctx.at,
        "last_reviewed_at": ctx.at,
        "review_due": ctx.at + review_interval(ctx),
        "revision": ctx.record.get("revision", 0) + 1,
    }


#: What a review confirmation may state: anything else would edit the published article
#: without a review (``revise`` sends it back to review instead).
_CONFIRM_FIELDS: Final = frozenset({"review_notes", "review_interval"})


@BUILTINS.guard("knowledge_article.confirm_only")
def _confirm_only(ctx: Context) -> str | None:
    """``confirm`` changes no published content, only the review notes and interval."""
    record = ctx.record
    if record is None:
        return None
    changed = sorted(
        n for n, v in ctx.changes.items() if n not in _CONFIRM_FIELDS and v != record.get(n)
    )
    if changed:
        return (
            f"{', '.join(changed)} cannot change with {ctx.event!r}: revise the article so "
            "the change is reviewed"
        )
    return None


@BUILTINS.effect("knowledge_article.confirm")
def _confirm(ctx: Context) -> Mapping[str, Any] | None:
    """A review that finds the article still right moves the next review on."""
    return {"last_reviewed_at": ctx.at, "review_due": ctx.at + review_interval(ctx)}


_KEEP = "knowledge_article.keeps_content"

SPEC: Final = ProcessSpec(
    name="knowledge_article",
    version=1,
    title="Knowledge article",
    id_prefix="KB",
    description="Capture knowledge once, review it, publish it and keep it current.",
    states=(
        StateSpec("draft", "open", initial=True, description="Being written."),
        StateSpec("in_review", "open", description="Waiting for a knowledge manager."),
        StateSpec("published", "active", description="Visible to its audience."),
        StateSpec("retired", "closed", terminal=True, description="No longer shown."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("kind", "enum", required=True, choices=KINDS),
        FieldSpec("body", "text"),
        FieldSpec("summary", "text"),
        FieldSpec("audience", "enum", choices=AUDIENCES),
        FieldSpec("category", "str"),
        FieldSpec("keywords", "list"),
        FieldSpec("service", "ref"),
        FieldSpec("known_error", "ref", description="The known error it works around."),
        FieldSpec("author", "str", description="Who wrote it (default: who opened it)."),
        FieldSpec("owner", "str", description="Who keeps it current."),
        FieldSpec("review_interval", "duration", description="Overrides the option."),
        FieldSpec("review_notes", "text"),
        FieldSpec("revision_notes", "text"),
        FieldSpec("reason", "text", description="Why it was retired."),
        FieldSpec("published_at", "datetime", derived=True),
        FieldSpec("last_reviewed_at", "datetime", derived=True),
        FieldSpec("review_due", "datetime", derived=True),
        FieldSpec("revision", "int", derived=True, description="1 on first publication."),
    ),
    opening=TransitionSpec(
        "open",
        (),
        "draft",
        guards=("knowledge_article.positive_interval",),
        effects=("knowledge_article.set_author",),
    ),
    transitions=(
        TransitionSpec(
            "submit",
            ("draft",),
            "in_review",
            requires=("body",),
            guards=(_KEEP, "knowledge_article.names_known_error"),
        ),
        TransitionSpec(
            "reject",
            ("in_review",),
            "draft",
            requires=("review_notes",),
            guards=(_KEEP, "knowledge_article.notes_given"),
        ),
        TransitionSpec(
            "publish",
            ("in_review",),
            "published",
            roles=("knowledge_manager",),
            guards=(_KEEP, "knowledge_article.not_author", "knowledge_article.positive_interval"),
            effects=("knowledge_article.publish",),
        ),
        TransitionSpec(
            "confirm",
            ("published",),
            "=",
            roles=("knowledge_manager",),
            guards=("knowledge_article.confirm_only", "knowledge_article.positive_interval"),
            effects=("knowledge_article.confirm",),
            description="A periodic review found the article still right.",
        ),
        TransitionSpec(
            "revise",
            ("published",),
            "in_review",
            requires=("revision_notes",),
            guards=(
                _KEEP,
                "knowledge_article.notes_given",
                "knowledge_article.positive_interval",
                "knowledge_article.names_known_error",
            ),
            description="Change a published article; it is reviewed again.",
        ),
        TransitionSpec(
            "retire",
            ("draft", "in_review", "published"),
            "retired",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "update",
            ("draft",),
            "=",
            guards=(_KEEP, "knowledge_article.positive_interval"),
        ),
    ),
    timers=(TimerSpec("review_due", "published", at_field="review_due"),),
    options={"review_interval": "P180D", "four_eyes": True},
)
