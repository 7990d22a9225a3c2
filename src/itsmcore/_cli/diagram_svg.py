"""A process spec as a self-contained SVG state diagram (``itsmcore diagram --format svg``).

Why our own layout: the Mermaid text needs a renderer (the mermaid CLI pulls a browser);
a spec's graph is small, so a layered drawing is enough to read it:

- states sit in rows by their distance from the initial state (breadth-first), each row
  centred; a box's fill says its category;
- a transition to a later row is a straight arrow, one to the same or an earlier row
  (a loop back) a curve on the side, a self-transition a small loop on the box's right;
  events on the same pair of states share one label;
- transitions from ``*`` (every non-terminal state, such as ``cancel`` and ``update``)
  are listed once under the drawing instead of as an arrow from every box.
"""

from __future__ import annotations

from collections import deque
from html import escape

from itsmcore.spec import ProcessSpec

__all__ = ["to_svg"]

_BOX_H = 36
_ROW_GAP = 84
_COL_GAP = 36
_MARGIN = 40
_CHAR_W = 7.2
_FILL = {
    "open": "#e8f0fe",
    "paused": "#fff4d6",
    "resolved": "#e3f5e1",
    "active": "#e0f4f4",
    "closed": "#e6e6e6",
    "cancelled": "#f7e1e1",
}


def _ranks(spec: ProcessSpec) -> dict[str, int]:
    """Breadth-first distance from the initial state; unreachable states go last."""
    nexts: dict[str, list[str]] = {s.name: [] for s in spec.states}
    for t in spec.transitions:
        if "*" in t.sources or t.target == "=":
            continue
        for src in t.sources:
            nexts[src].append(t.target)
    rank = {spec.initial: 0}
    queue = deque([spec.initial])
    while queue:
        here = queue.popleft()
        for there in nexts[here]:
            if there not in rank:
                rank[there] = rank[here] + 1
                queue.append(there)
    last = max(rank.values(), default=0) + 1
    for s in spec.states:
        rank.setdefault(s.name, last)
    return rank


def _box_w(name: str) -> float:
    return max(90.0, len(name) * _CHAR_W + 24)


def _label(x: float, y: float, text: str) -> str:
    w = len(text) * 6.2 + 8
    return (
        f'<rect x="{x - w / 2:.1f}" y="{y - 9:.1f}" width="{w:.1f}" height="16" '
        f'fill="white" opacity="0.85"/>'
        f'<text x="{x:.1f}" y="{y + 3:.1f}" class="ev">{escape(text)}</text>'
    )


def to_svg(spec: ProcessSpec) -> str:
    """The SVG text of ``spec``'s state diagram (see the module docstring)."""
    rank = _ranks(spec)
    rows: dict[int, list[str]] = {}
    for s in spec.states:
        rows.setdefault(rank[s.name], []).append(s.name)
    widths = {name: _box_w(name) for name in rank}
    row_w = {
        r: sum(widths[n] for n in names) + _COL_GAP * (len(names) - 1) for r, names in rows.items()
    }
    width = max(row_w.values()) + 2 * _MARGIN + 160
    pos: dict[str, tuple[float, float]] = {}  # centre of each box
    for r, names in sorted(rows.items()):
        x = (width - row_w[r]) / 2
        for name in names:
            pos[name] = (x + widths[name] / 2, _MARGIN + 30 + r * (_BOX_H + _ROW_GAP) + _BOX_H / 2)
            x += widths[name] + _COL_GAP

    edges: dict[tuple[str, str], list[str]] = {}
    everywhere: list[str] = []
    for t in spec.transitions:
        if "*" in t.sources:
            where = "stays" if t.target == "=" else f"→ {t.target}"
            everywhere.append(f"{t.event} ({where})")
            continue
        for src in t.sources:
            dst = src if t.target == "=" else t.target
            labels = edges.setdefault((src, dst), [])
            if t.event not in labels:
                labels.append(t.event)

    parts: list[str] = []
    for (src, dst), labels in edges.items():
        text = ", ".join(labels)
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        if src == dst:
            right = x1 + widths[src] / 2
            parts.append(
                f'<path d="M {right:.1f} {y1 - 8:.1f} C {right + 40:.1f} {y1 - 30:.1f}, '
                f'{right + 40:.1f} {y1 + 30:.1f}, {right:.1f} {y1 + 8:.1f}" class="edge"/>'
            )
            parts.append(_label(right + 36 + len(text) * 3.1, y1, text))
        elif rank[dst] > rank[src]:
            sy, ey = y1 + _BOX_H / 2, y2 - _BOX_H / 2
            parts.append(f'<path d="M {x1:.1f} {sy:.1f} L {x2:.1f} {ey:.1f}" class="edge"/>')
            parts.append(_label((x1 + x2) / 2, (sy + ey) / 2, text))
        else:  # a loop back (or sideways): a curve bulging to the left
            sx, ex = x1 - widths[src] / 2, x2 - widths[dst] / 2
            bulge = min(sx, ex) - 60 - 10 * abs(rank[src] - rank[dst])
            parts.append(
                f'<path d="M {sx:.1f} {y1:.1f} Q {bulge:.1f} {(y1 + y2) / 2:.1f} '
                f'{ex:.1f} {y2:.1f}" class="edge back"/>'
            )
            parts.append(_label((sx + ex) / 2 - 30, (y1 + y2) / 2, text))

    boxes: list[str] = []
    for s in spec.states:
        x, y = pos[s.name]
        w = widths[s.name]
        stroke = 3 if s.terminal else 1.2
        boxes.append(
            f'<rect x="{x - w / 2:.1f}" y="{y - _BOX_H / 2:.1f}" width="{w:.1f}" '
            f'height="{_BOX_H}" rx="10" fill="{_FILL.get(s.category, "#ffffff")}" '
            f'stroke="#333" stroke-width="{stroke}"/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" class="st">{escape(s.name)}</text>'
        )
    ix, iy = pos[spec.initial]
    start = (
        f'<circle cx="{ix:.1f}" cy="{iy - _BOX_H / 2 - 26:.1f}" r="6" fill="#333"/>'
        f'<path d="M {ix:.1f} {iy - _BOX_H / 2 - 20:.1f} L {ix:.1f} {iy - _BOX_H / 2:.1f}" '
        f'class="edge"/>'
    )
    bottom = max(y for _, y in pos.values()) + _BOX_H / 2 + 30
    notes = []
    if everywhere:
        line = "From every non-terminal state: " + "; ".join(everywhere)
        notes.append(
            f'<text x="{_MARGIN}" y="{bottom + 10:.1f}" class="note">{escape(line)}</text>'
        )
        width = max(width, len(line) * 6.6 + 2 * _MARGIN)
    title = f"{spec.title or spec.name} (v{spec.version})"
    height = bottom + 40
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif">\n'
        f"<title>{escape(title)}</title>\n"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>\n'
        "<style>.edge{fill:none;stroke:#333;stroke-width:1.2;marker-end:url(#arrow)}"
        ".back{stroke-dasharray:5 3}.st{font-size:13px;text-anchor:middle}"
        ".ev{font-size:11px;text-anchor:middle;fill:#1a4d8f}.note{font-size:12px;fill:#444}"
        ".ttl{font-size:15px;font-weight:bold}</style>\n"
        f'<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="{_MARGIN}" y="24" class="ttl">{escape(title)}</text>\n'
        + start
        + "\n".join(parts)
        + "\n"
        + "\n".join(boxes)
        + "\n"
        + "\n".join(notes)
        + "\n</svg>\n"
    )
