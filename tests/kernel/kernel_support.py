from __future__ import annotations

from datetime import UTC, datetime

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
OPEN_FIELDS = {"title": "Mail down", "impact": 1, "urgency": 2, "caller": "carol"}
