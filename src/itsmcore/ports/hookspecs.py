"""The extension points of itsmcore: every hook a plugin may implement, in one place.

This module is the single truth: ``docs/plugins.md`` has one heading per hook in the
form ``name(arg1, arg2)`` and a test fails when they drift apart.

How plugins are written (see ``docs/plugins.md`` for examples): a plugin is any object
(module, class or instance) with functions named after these hooks and decorated with
``itsmcore.hookimpl``. It is handed to ``Engine(..., plugins=[...])`` or loaded from an
allow-listed setuptools entry point of group ``itsmcore``
(``Engine(..., entry_points=["name"])``); nothing is loaded automatically.

Rules that hold for every hook:

- Arguments are passed by name, and an implementation may accept *fewer* arguments
  than the spec (only those it needs). So adding an argument to a hook never breaks an
  existing plugin.
- Implementations are called newest plugin first (the built-in plugins last), as in
  pluggy. ``tryfirst``/``trylast`` reorder them; hook wrappers are not supported and are
  refused at registration.
- "Collect" hooks return a value per plugin and the engine merges them; "first result"
  hooks stop at the first non-``None`` answer.
- An exception raised inside an implementation is wrapped in
  :class:`~itsmcore.ports.plugins.PluginError` naming the plugin and the hook; the
  operation that called the hook is abandoned and nothing is written.
- Every engine has its own plugin manager; two engines never share plugins.

Each hook is marked with the version it was added in (``versionadded``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import pluggy

if TYPE_CHECKING:
    from itsmcore.ports.storage import Notification, Storage
    from itsmcore.records import Actor, Event, Record
    from itsmcore.registry import EffectFn, GuardFn
    from itsmcore.spec import ProcessSpec

__all__ = [
    "PROJECT",
    "hookimpl",
    "hookspec",
    "itsmcore_authorize",
    "itsmcore_calendars",
    "itsmcore_effects",
    "itsmcore_guards",
    "itsmcore_notify",
    "itsmcore_policies",
    "itsmcore_processes",
    "itsmcore_sign",
    "itsmcore_storage",
    "itsmcore_verify_signature",
]

#: The pluggy project name; hooks carry the prefix ``itsmcore_``.
PROJECT: Final = "itsmcore"

#: Marks a hook specification (used only in this module).
hookspec: Final = pluggy.HookspecMarker(PROJECT)

#: Marks a hook implementation in a plugin: ``from itsmcore import hookimpl``.
hookimpl: Final = pluggy.HookimplMarker(PROJECT)

_SPEC_ONLY = "a hook specification: implement it in a plugin, never call it"


# -- processes, guards and effects (collected once, when the engine is built) -------------


@hookspec
def itsmcore_processes() -> Iterable[ProcessSpec | Mapping[str, Any]]:
    """Process specs this plugin adds to the engine's catalog.

    Collect hook, called once when the :class:`~itsmcore.engine.Engine` is built.

    :return: specs as :class:`~itsmcore.spec.ProcessSpec` objects, or as plain data
        (the ``load_spec`` format). Plain data is loaded against the engine's registry:
        the built-in guards and effects plus every plugin's ``itsmcore_guards`` and
        ``itsmcore_effects``, so a data spec may name the plugin's own guards. A
        ``ProcessSpec`` object is used as built: build it with
        ``registry=BUILTINS.extended(guards, effects)`` if it names your own guards.
        A spec with the name and version of an existing one but other content is an
        error (give it a higher version).

    Implemented by plugins that ship custom workflows. ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


@hookspec
def itsmcore_guards() -> Mapping[str, GuardFn]:
    """Named guards (and conditions) that specs may refer to.

    Collect hook, called once when the engine is built, before ``itsmcore_processes``.

    :return: a mapping of name to guard. Names are ``lower_snake`` with an optional
        ``prefix.`` (use your plugin's name as prefix: ``acme.has_budget``). A guard takes
        a :class:`~itsmcore.registry.Context` and returns ``None`` (pass) or a reason
        (``str``). It must be pure: no clock, no I/O. Two plugins registering one name
        with different functions is an error.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


@hookspec
def itsmcore_effects() -> Mapping[str, EffectFn]:
    """Named effects that specs may refer to.

    Collect hook, called once when the engine is built, before ``itsmcore_processes``.

    :return: a mapping of name to effect (same naming rules as ``itsmcore_guards``). An
        effect takes a :class:`~itsmcore.registry.Context` and returns extra field
        changes or ``None``; it must be pure.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


# -- SLA ------------------------------------------------------------------------------------


@hookspec
def itsmcore_policies() -> Iterable[Any]:
    """SLA policies this plugin provides.

    Collect hook, called once when the engine is built.

    :return: SLA policy objects (``itsmcore.sla`` policies, or their plain-data form
        where the SLA module accepts it). Policy names must be unique across plugins.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


@hookspec
def itsmcore_calendars() -> Mapping[str, Any]:
    """Business calendars this plugin provides, by name.

    Collect hook, called once when the engine is built.

    :return: a mapping of calendar name to a
        :class:`~itsmcore.sla.calendar.BusinessCalendar` (or its ``to_dict`` form).
        Calendar names must be unique across plugins.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


# -- storage --------------------------------------------------------------------------------


@hookspec(firstresult=True)
def itsmcore_storage(url: str) -> Storage | None:
    """A storage adapter for ``url``, or ``None`` when the URL's scheme is not yours.

    First-result hook: stops at the first non-``None`` answer, so a plugin can take over
    a scheme from the built-in adapters (``memory://``, ``sqlite:///path``).

    :param url: the URL given to ``Engine.from_url`` or ``Engine(storage=url)``.
    :return: an object implementing :class:`~itsmcore.ports.storage.Storage` (run the
        contract suite :mod:`itsmcore.testing.contract` on it), or ``None``. Raise
        :class:`~itsmcore.errors.StorageError` for a URL of your scheme that is invalid.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


# -- authorization --------------------------------------------------------------------------


@hookspec
def itsmcore_authorize(actor: Actor, record: Record, event: Event) -> bool | str | None:
    """May ``actor`` make this change? Asked for every event before it is saved.

    Every implementation is asked; **any deny wins** and raises
    :class:`~itsmcore.errors.Forbidden` whose ``by`` names the denying plugin. Nothing
    is saved then. With no authorization plugin every change the spec allows (its
    ``roles``) is allowed.

    :param actor: who acts (``event.actor``; :data:`~itsmcore.records.SYSTEM` for timers
        and SLA ticks).
    :param record: the record as it *would be* after the event (on ``open``, the new
        record). The state before is ``event.source``.
    :param event: the :class:`~itsmcore.records.Event` that would be appended (name,
        changes, time).
    :return: ``None`` for no opinion, ``True`` to allow, ``False`` or a reason
        (non-empty ``str``) to deny.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


# -- notifications --------------------------------------------------------------------------


@hookspec
def itsmcore_notify(notification: Notification) -> None:
    """Deliver one notification (a transition, an SLA warning or breach, a timer).

    Called by ``Engine.deliver()`` (and after each commit when ``auto_deliver`` is on),
    only for notifications whose transaction committed, oldest first. Delivery is *at
    least once*: a notification is marked delivered after every implementation returned,
    so a crash or an exception before that redelivers it, to every plugin. De-duplicate
    on ``notification.id``, which is stable.

    :param notification: the :class:`~itsmcore.ports.storage.Notification` (ids and
        states in ``payload``, never field values).

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


# -- tamper evidence ------------------------------------------------------------------------


@hookspec(firstresult=True)
def itsmcore_sign(head: str) -> str | None:
    """A signature over a chain head: the SHA-256 hex hash of a record's latest event.

    First-result hook, called before each save; the signature is stored in the same
    transaction as the event (``Storage.signed_head``) and checked by
    ``Engine.verify()``. The hash covers the record id, version and all content, so a
    signature cannot be moved to another record or version. Register one signer.

    :param head: 64 lowercase hex characters.
    :return: the signature as text (e.g. hex HMAC or base64 Ed25519), or ``None``.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)


@hookspec(firstresult=True)
def itsmcore_verify_signature(head: str, signature: str) -> bool | None:
    """Does ``signature`` sign ``head``? For signers whose signatures are not
    reproducible (randomised schemes) or whose verifier has no signing key.

    First-result hook. When no plugin answers, ``Engine.verify()`` re-signs ``head``
    with ``itsmcore_sign`` and compares (right for HMAC and Ed25519).

    :return: ``True``/``False``, or ``None`` for no answer.

    ``versionadded: 0.1``
    """
    raise NotImplementedError(_SPEC_ONLY)
