"""One engine's plugins: building its pluggy manager and calling hooks through typed wrappers.

Why a host object per engine: plugins are state (signing keys, connections); a global
manager (datasette's weak spot) makes two engines in one process interfere. Each
:class:`~itsmcore.engine.Engine` builds one :class:`PluginHost`:

1. a fresh ``pluggy.PluginManager("itsmcore")`` with the specs of
   :mod:`itsmcore.ports.hookspecs`;
2. the built-in plugins (:func:`default_plugins`: the ``memory://``, ``sqlite:///`` and
   ``postgresql://`` storage schemes and the logging notifier), through the same hooks
   as any plugin;
3. the setuptools entry points of group ``itsmcore`` named in ``entry_points`` (an
   allowlist: nothing is loaded unless named);
4. the host's ``plugins``, newest called first;
5. ``check_pending()``: an implementation without a spec (a misspelt hook) is an error.

Every problem is a :class:`PluginError` naming the plugin and the hook and saying what
to change. Hooks are called one implementation at a time (in pluggy's order), so an
error or a deny can name the plugin it came from; for that reason hook wrappers are
refused. Set the ``itsmcore.plugins`` logger to DEBUG to trace every hook call.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

import pluggy

from itsmcore.errors import ItsmError, StorageError, did_you_mean
from itsmcore.ports import hookspecs
from itsmcore.ports.hookspecs import PROJECT
from itsmcore.ports.notify import LogNotifier
from itsmcore.ports.storage import Notification, Storage
from itsmcore.records import Actor, Event, Record
from itsmcore.registry import BUILTINS, EffectFn, GuardFn, Registry

if TYPE_CHECKING:
    from itsmcore._catalog import Catalog
    from itsmcore.sla.calendar import BusinessCalendar
    from itsmcore.sla.policy import SlaPolicy
    from itsmcore.spec import ProcessSpec

__all__ = ["ENTRY_POINT_GROUP", "PluginError", "PluginHost", "default_plugins", "redact_url"]

#: The setuptools entry-point group plugins are published under.
ENTRY_POINT_GROUP: Final = "itsmcore"

_log = logging.getLogger("itsmcore.plugins")
_HOOKS: Final = tuple(n for n in hookspecs.__all__ if n.startswith("itsmcore_"))
_CREDENTIALS = re.compile(r"(//[^/@:]*:)[^/@]*@")


class PluginError(ItsmError):
    """A plugin could not be registered, or raised or answered wrongly inside a hook.

    ``plugin`` is the plugin's name and ``hook`` the hook (empty when not known). The
    operation that called the hook was abandoned; nothing was written.
    """

    def __init__(self, message: str, *, plugin: str = "", hook: str = "") -> None:
        self.plugin = plugin
        self.hook = hook
        super().__init__(message)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for messages and logs)."""
    return _CREDENTIALS.sub(r"\1***@", url)


def default_plugins() -> list[tuple[str, object]]:
    """The built-in plugins, as ``(name, plugin)``: registered first, called last."""
    from itsmcore.adapters.url import BuiltinStorage

    return [("itsmcore.storage", BuiltinStorage()), ("itsmcore.log", LogNotifier())]


def _plugin_name(plugin: object) -> str:
    name = getattr(plugin, "__name__", None)
    if isinstance(name, str) and isinstance(plugin, ModuleType | type):
        return name
    return type(plugin).__name__


class PluginHost:
    """The plugins of one engine and typed calls of every hook (see the module docs).

    ``plugins`` are modules, classes or instances with ``@itsmcore.hookimpl`` functions;
    a plugin is named after its module or class. ``entry_points`` names entry points of
    group ``itsmcore`` to load. ``defaults=False`` leaves out :func:`default_plugins`.
    Raises :class:`PluginError`.
    """

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        entry_points: Iterable[str] = (),
        defaults: bool = True,
    ) -> None:
        self.manager: pluggy.PluginManager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(hookspecs)
        if defaults:
            for name, plugin in default_plugins():
                self.register(plugin, name=name)
        for ep_name in entry_points:
            self._load_entry_point(ep_name)
        for plugin in plugins:
            self.register(plugin)
        self.check()

    # -- registration ---------------------------------------------------------------------

    def register(self, plugin: object, *, name: str | None = None) -> str:
        """Register ``plugin`` and return its name; validates its hooks at once."""
        base = name or _plugin_name(plugin)
        unique, n = base, 1
        while self.manager.get_plugin(unique) is not None:
            n += 1
            unique = f"{base}#{n}"
        if self.manager.is_registered(plugin):
            raise PluginError(f"plugin {base!r} is registered twice", plugin=base)
        try:
            self.manager.register(plugin, name=unique)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {unique!r} does not match the hook specs: {exc}; "
                "see docs/plugins.md for each hook's arguments",
                plugin=unique,
            ) from None
        callers = self.manager.get_hookcallers(plugin) or []
        if not callers:
            self.manager.unregister(plugin)
            raise PluginError(
                f"plugin {unique!r} implements no itsmcore hook; decorate its functions "
                "with itsmcore.hookimpl and name them after a hook in "
                "itsmcore.ports.hookspecs",
                plugin=unique,
            )
        for caller in callers:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                    self.manager.unregister(plugin)
                    raise PluginError(
                        f"plugin {unique!r}: hook wrappers are not supported "
                        f"({caller.name}); implement the hook plainly",
                        plugin=unique,
                        hook=caller.name,
                    )
        return unique

    def _load_entry_point(self, name: str) -> None:
        available = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            raise PluginError(
                f"no entry point {name!r} in group {ENTRY_POINT_GROUP!r}"
                f"{did_you_mean(name, available)}; installed: {known}. Install the "
                "plugin's distribution or fix the name",
                plugin=name,
            )
        try:
            plugin = available[name].load()
        except Exception as exc:
            raise PluginError(
                f"entry point {name!r} failed to load: {type(exc).__name__}: {exc}",
                plugin=name,
            ) from exc
        self.register(plugin, name=name)

    def check(self) -> None:
        """Refuse implementations without a spec (pluggy's ``check_pending``)."""
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            plugin = self.manager.get_name(exc.plugin) or _plugin_name(exc.plugin)
            callers = self.manager.get_hookcallers(exc.plugin) or []
            unknown = [c.name for c in callers if not c.has_spec()]
            hints = "".join(f" {n!r}{did_you_mean(n, _HOOKS)}" for n in unknown)
            raise PluginError(
                f"plugin {plugin!r} implements unknown hook(s):{hints}; "
                f"known hooks: {', '.join(_HOOKS)}",
                plugin=plugin or "",
            ) from None

    def names(self) -> list[str]:
        """The names of the registered plugins, built-ins first."""
        return [n for n, _ in self.manager.list_name_plugin()]

    def implements(self, hook: str) -> bool:
        """True when some registered plugin implements ``hook``."""
        caller = getattr(self.manager.hook, hook, None)
        return caller is not None and bool(caller.get_hookimpls())

    # -- calling ----------------------------------------------------------------------------

    def _each(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call each implementation of ``hook`` in pluggy's order; yield (plugin, result)."""
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook)
        for impl in reversed(caller.get_hookimpls()):
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("calling %s of plugin %s", hook, impl.plugin_name)
            try:
                result = impl.function(*[kwargs[a] for a in impl.argnames])
            except ItsmError as exc:
                exc.add_note(f"raised by plugin {impl.plugin_name!r} in {hook}")
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} raised in {hook}: "
                    f"{type(exc).__name__}: {exc}; fix or remove the plugin",
                    plugin=impl.plugin_name,
                    hook=hook,
                ) from exc
            yield impl.plugin_name, result

    def registry(self, base: Registry = BUILTINS) -> Registry:
        """``base`` extended with every plugin's ``itsmcore_guards`` and ``itsmcore_effects``."""
        reg = base.extended()
        for hook, add in (
            ("itsmcore_guards", reg.add_guard),
            ("itsmcore_effects", reg.add_effect),
        ):
            for plugin, result in self._each(hook):
                if result is None:
                    continue
                if not isinstance(result, Mapping):
                    raise PluginError(
                        f"plugin {plugin!r}: {hook} must return a mapping of name to function",
                        plugin=plugin,
                        hook=hook,
                    )
                for name, fn in result.items():
                    try:
                        add(name, fn)
                    except (ValueError, TypeError) as exc:
                        raise PluginError(
                            f"plugin {plugin!r}: {hook}: {exc}", plugin=plugin, hook=hook
                        ) from None
        return reg

    def guards(self) -> dict[str, GuardFn]:
        """The guards all plugins provide (without the built-ins)."""
        return dict(self.registry(Registry()).guards)

    def effects(self) -> dict[str, EffectFn]:
        """The effects all plugins provide (without the built-ins)."""
        return dict(self.registry(Registry()).effects)

    def processes(self, registry: Registry) -> list[tuple[str, ProcessSpec]]:
        """Every ``itsmcore_processes`` spec as ``(plugin, spec)``; plain-data specs are
        loaded against ``registry`` (raises ``SpecError`` naming the plugin in a note)."""
        from itsmcore.serialization import spec_from_dict
        from itsmcore.spec import ProcessSpec

        out: list[tuple[str, ProcessSpec]] = []
        for plugin, result in self._each("itsmcore_processes"):
            for item in result or ():
                if isinstance(item, ProcessSpec):
                    out.append((plugin, item))
                elif isinstance(item, Mapping):
                    try:
                        out.append((plugin, spec_from_dict(item, registry=registry)))
                    except ItsmError as exc:
                        exc.add_note(f"spec returned by plugin {plugin!r}")
                        raise
                else:
                    raise PluginError(
                        f"plugin {plugin!r}: itsmcore_processes must return ProcessSpec "
                        f"objects or plain-data specs, got {type(item).__name__}",
                        plugin=plugin,
                        hook="itsmcore_processes",
                    )
        return out

    def add_processes(self, catalog: Catalog, registry: Registry) -> None:
        """Register every plugin spec in ``catalog`` (an engine's own copy)."""
        from itsmcore.errors import SpecError

        for plugin, spec in self.processes(registry):
            try:
                catalog.register(spec)
            except SpecError as exc:
                raise PluginError(
                    f"plugin {plugin!r}: {exc}", plugin=plugin, hook="itsmcore_processes"
                ) from exc

    def calendars(self) -> dict[str, BusinessCalendar]:
        """Every plugin's calendars by name (plain-data ones loaded with
        ``BusinessCalendar.from_dict``); a name given twice is a :class:`PluginError`."""
        from itsmcore.sla.calendar import BusinessCalendar

        out: dict[str, BusinessCalendar] = {}
        owner: dict[str, str] = {}
        for plugin, result in self._each("itsmcore_calendars"):
            if result is None:
                continue
            if not isinstance(result, Mapping):
                raise PluginError(
                    f"plugin {plugin!r}: itsmcore_calendars must return a mapping of "
                    "name to calendar",
                    plugin=plugin,
                    hook="itsmcore_calendars",
                )
            for name, calendar in result.items():
                if name in out:
                    raise PluginError(
                        f"calendar {name!r} is provided by both {owner[name]!r} and "
                        f"{plugin!r}; rename one",
                        plugin=plugin,
                        hook="itsmcore_calendars",
                    )
                out[name] = self._typed(plugin, "itsmcore_calendars", calendar, BusinessCalendar)
                owner[name] = plugin
        return out

    def policies(self) -> list[SlaPolicy]:
        """Every plugin's SLA policies in call order (plain-data ones loaded with
        ``SlaPolicy.from_dict``); the engine's SLA rules check names and versions."""
        from itsmcore.sla.policy import SlaPolicy

        out: list[SlaPolicy] = []
        for plugin, result in self._each("itsmcore_policies"):
            for item in result or ():
                out.append(self._typed(plugin, "itsmcore_policies", item, SlaPolicy))
        return out

    @staticmethod
    def _typed(plugin: str, hook: str, value: Any, cls: Any) -> Any:
        """``value`` as a ``cls`` (loading plain data with ``cls.from_dict``)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            try:
                return cls.from_dict(value)
            except ItsmError as exc:
                exc.add_note(f"returned by plugin {plugin!r} from {hook}")
                raise
        raise PluginError(
            f"plugin {plugin!r}: {hook} returned {type(value).__name__}; return "
            f"{cls.__name__} objects or their plain-data form",
            plugin=plugin,
            hook=hook,
        )

    def storage(self, url: str) -> Storage:
        """The storage adapter for ``url`` from the first plugin that answers.

        Raises :class:`~itsmcore.errors.StorageError` when no plugin knows the scheme.
        """
        if not isinstance(url, str) or ":" not in url:
            raise StorageError(
                f"{url!r} is not a storage URL; use memory://, sqlite:///path/to/file.db "
                "or a scheme a plugin provides"
            )
        for plugin, result in self._each("itsmcore_storage", url=url):
            if result is None:
                continue
            if not isinstance(result, Storage):
                raise PluginError(
                    f"plugin {plugin!r}: itsmcore_storage returned {type(result).__name__}, "
                    "which does not implement itsmcore.Storage",
                    plugin=plugin,
                    hook="itsmcore_storage",
                )
            return result
        scheme = url.split(":", 1)[0]
        raise StorageError(
            f"no storage adapter for scheme {scheme!r} in {redact_url(url)!r}; built-in "
            "schemes: memory://, sqlite:///relative.db, sqlite:////absolute.db, "
            "postgresql://user@host/dbname. For "
            "another scheme pass a plugin that implements itsmcore_storage"
        )

    def authorize(self, actor: Actor, record: Record, event: Event) -> None:
        """Ask every authorization plugin; the first deny raises ``Forbidden``."""
        if not self.manager.hook.itsmcore_authorize.get_hookimpls():
            return  # no plugin has an opinion (the common case, on every save)
        from itsmcore.errors import Forbidden

        for plugin, answer in self._each(
            "itsmcore_authorize", actor=actor, record=record, event=event
        ):
            if answer is None or answer is True:
                continue
            if answer is False or (isinstance(answer, str) and answer):
                reason = f": {answer}" if isinstance(answer, str) else ""
                raise Forbidden(
                    f"plugin {plugin!r} denied {actor.id!r} the event {event.name!r} on "
                    f"{record.id!r}{reason}",
                    by=plugin,
                    actor=actor.id,
                    event=event.name,
                )
            raise PluginError(
                f"plugin {plugin!r}: itsmcore_authorize must return None, True, False or "
                f"a non-empty reason, got {answer!r}",
                plugin=plugin,
                hook="itsmcore_authorize",
            )

    def notify(self, notification: Notification) -> None:
        """Hand ``notification`` to every notification plugin (raises ``PluginError``)."""
        for _plugin, _result in self._each("itsmcore_notify", notification=notification):
            pass

    @property
    def can_sign(self) -> bool:
        """True when a plugin implements ``itsmcore_sign``."""
        return self.implements("itsmcore_sign")

    def sign(self, head: str) -> str | None:
        """The first signer's signature over ``head``, or ``None`` without a signer."""
        for plugin, result in self._each("itsmcore_sign", head=head):
            if result is None:
                continue
            if not isinstance(result, str) or not result:
                raise PluginError(
                    f"plugin {plugin!r}: itsmcore_sign must return a non-empty str",
                    plugin=plugin,
                    hook="itsmcore_sign",
                )
            return result
        return None

    def verify_signature(self, head: str, signature: str) -> bool:
        """Does ``signature`` sign ``head``? Asks ``itsmcore_verify_signature``, else
        re-signs and compares in constant time; ``False`` when nobody can tell."""
        for _plugin, result in self._each(
            "itsmcore_verify_signature", head=head, signature=signature
        ):
            if result is not None:
                return bool(result)
        again = self.sign(head)
        return again is not None and hmac.compare_digest(again, signature)
