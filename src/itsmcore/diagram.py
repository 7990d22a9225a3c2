"""Draw a spec as a Mermaid state diagram (pure text; render it anywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from itsmcore.spec import ProcessSpec

__all__ = ["to_mermaid"]


def to_mermaid(spec: ProcessSpec) -> str:
    """A ``stateDiagram-v2`` with the initial arrow, every transition (self-transitions
    included, grouped per edge) and an end arrow from each terminal state."""
    lines = ["stateDiagram-v2"]
    lines.append(f"    [*] --> {spec.initial}")
    from itsmcore.spec import expand_sources

    edges: dict[tuple[str, str], list[str]] = {}
    for t in spec.transitions:
        for src in expand_sources(spec, t.sources):
            dst = src if t.target == "=" else t.target
            labels = edges.setdefault((src, dst), [])
            if t.event not in labels:
                labels.append(t.event)
    for (src, dst), labels in edges.items():
        lines.append(f"    {src} --> {dst}: {', '.join(labels)}")
    for s in spec.states:
        if s.terminal:
            lines.append(f"    {s.name} --> [*]")
        if s.category != "open":
            lines.append(f"    note right of {s.name}: {s.category}")
    return "\n".join(lines) + "\n"
