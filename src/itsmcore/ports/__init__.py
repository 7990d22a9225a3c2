"""The ports: what itsmcore needs from its host, and where plugins plug in.

- :mod:`itsmcore.ports.storage`: the :class:`Storage` protocol and its value types;
- :mod:`itsmcore.ports.hookspecs`: every hook a plugin may implement (the single truth);
- :mod:`itsmcore.ports.plugins`: :class:`PluginHost`, one engine's plugins and typed hook
  calls, and :class:`PluginError`;
- :mod:`itsmcore.ports.notify`: the built-in :class:`LogNotifier` and :class:`Inbox`.

Plugin authors need only ``hookimpl`` (also exported as ``itsmcore.hookimpl``). Names
are imported on first use, so the pure core can import :mod:`itsmcore.ports.storage`
without loading pluggy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from itsmcore._lazy import lazy_exports

if TYPE_CHECKING:
    from itsmcore.ports.hookspecs import hookimpl
    from itsmcore.ports.notify import Inbox, LogNotifier
    from itsmcore.ports.plugins import ENTRY_POINT_GROUP, PluginError, PluginHost
    from itsmcore.ports.storage import Claim, Deadline, Notification, SignedHead, Storage

_EXPORTS: Final[dict[str, str]] = {
    "ENTRY_POINT_GROUP": "itsmcore.ports.plugins",
    "Claim": "itsmcore.ports.storage",
    "Deadline": "itsmcore.ports.storage",
    "Inbox": "itsmcore.ports.notify",
    "LogNotifier": "itsmcore.ports.notify",
    "Notification": "itsmcore.ports.storage",
    "PluginError": "itsmcore.ports.plugins",
    "PluginHost": "itsmcore.ports.plugins",
    "SignedHead": "itsmcore.ports.storage",
    "Storage": "itsmcore.ports.storage",
    "hookimpl": "itsmcore.ports.hookspecs",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "Claim",
    "Deadline",
    "Inbox",
    "LogNotifier",
    "Notification",
    "PluginError",
    "PluginHost",
    "SignedHead",
    "Storage",
    "hookimpl",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
