from __future__ import annotations

import pytest

import itsmcore as ic


@pytest.fixture
def incident() -> ic.ProcessSpec:
    return ic.catalog.get("incident")
