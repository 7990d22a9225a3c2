"""Storage from a URL: built-in schemes, plugin schemes, and errors that say what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.adapters.url import storage_from_url
from itsmcore.ports import hookimpl
from itsmcore.ports.plugins import PluginError


def test_memory_url_gives_a_fresh_memory_store() -> None:
    assert isinstance(storage_from_url("memory://"), MemoryStorage)


def test_sqlite_url_with_three_slashes_is_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    store = storage_from_url("sqlite:///data/itsm.db")
    assert isinstance(store, SqliteStorage)
    assert store.path == Path("data/itsm.db")
    assert (tmp_path / "data" / "itsm.db").exists()
    store.close()


def test_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    store = storage_from_url(f"sqlite:///{tmp_path}/itsm.db?busy_timeout=2.5&synchronous=NORMAL")
    assert isinstance(store, SqliteStorage)
    assert (store.path, store.busy_timeout, store.synchronous) == (
        tmp_path / "itsm.db",
        2.5,
        "NORMAL",
    )
    store.close()


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("sqlite:///x.db?timeout=3", "known: busy_timeout, synchronous"),
        ("sqlite://host/x.db", "no host"),
        ("sqlite:///", "names no file"),
        ("memory://somewhere", "write memory://"),
        ("itsm.db", "not a storage URL"),
    ],
)
def test_a_malformed_url_says_what_to_write(url: str, hint: str) -> None:
    with pytest.raises(ic.StorageError, match=hint):
        storage_from_url(url)


def test_an_unknown_scheme_names_the_hook_and_hides_the_password() -> None:
    with pytest.raises(ic.StorageError, match="itsmcore_storage") as err:
        storage_from_url("mongodb://itsm:s3cret@db/itsm")
    assert "s3cret" not in str(err.value)
    assert "itsm:***@db" in str(err.value)


class Redis:
    """A plugin serving a made-up scheme with the memory adapter."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    @hookimpl
    def itsmcore_storage(self, url: str) -> ic.Storage | None:
        if not url.startswith(("redis:", "memory:")):
            return None
        self.urls.append(url)
        return MemoryStorage()


def test_a_plugin_serves_its_own_scheme_and_may_take_over_a_builtin_one() -> None:
    plugin = Redis()
    engine = ic.Engine.from_url("redis://cache/0", plugins=[plugin])
    assert isinstance(engine.storage, MemoryStorage)
    ic.Engine("memory://", plugins=[plugin])
    assert plugin.urls == ["redis://cache/0", "memory://"]


def test_a_plugin_returning_a_non_storage_is_a_plugin_error() -> None:
    class Broken:
        @hookimpl
        def itsmcore_storage(self, url: str) -> object:
            return "not a store"

    with pytest.raises(PluginError, match=r"does not implement itsmcore\.Storage") as err:
        storage_from_url("memory://", plugins=[Broken()])
    assert err.value.plugin == "Broken"


def test_engine_from_url_opens_sqlite(tmp_path: Path) -> None:
    with ic.Engine.from_url(f"sqlite:///{tmp_path}/itsm.db") as engine:
        assert isinstance(engine.storage, SqliteStorage)
