"""A process spec as a self-contained SVG state diagram (``itsmcore diagram --format svg``).

Why our own layout: rendering the Mermaid text needs the mermaid CLI, which brings a
browser; a spec's graph is small, so a layered drawing is enough to read it:

- states sit in rows by the longest forward path from the initial state (loops back
  are left out of that measure); a box's fill says its category, a thick border marks
  a terminal state;
- a transition to the next row is a straight arrow; one skipping rows is a curve on the
  right; one going back (or sideways) a dashed curve on the left;
- self-transitions are listed inside their box (``↻ assign, update``), and transitions
  from ``*`` or from three or more states to one target (``cancel``) are listed once
  under the drawing instead of as an arrow from every box.
"""

from __future__ import annotations

from html import escape
from typing import Final

from itsmcore.spec import ProcessSpec

__all__ = ["to_svg"]

_ROW: Final = 96
_BOX_H: Final = 38
_GAP: Final = 40
_CHAR: Final = 7.0
_LABEL_CHAR: Final = 6.2
_FILL: Final = {
    "open": "#e8f0fe",
    "paused": "#fff4d6",
    "resolved": "#e3f5e1",
    "active": "#dff3f3",
    "closed": "#e6e6e6",
    "cancelled": "#f7e1e1",
}

_Edge = tuple[str, str, str]  # source, target, label


def _wide(sources: tuple[str, ...], target: str, terminal: set[str]) -> bool:
    """From every state, or from three or more into one terminal state (``cancel``)."""
    return "*" in sources or (len(sources) >= 3 and target in terminal)


def _classify(spec: ProcessSpec) -> tuple[list[_Edge], dict[str, list[str]], list[str]]:
    """Regular edges (labels merged per pair), self-transitions per state, and the
    footer lines for transitions from everywhere."""
    pairs: dict[tuple[str, str], list[str]] = {}
    loops: dict[str, list[str]] = {}
    footer: list[str] = []
    terminal = {s.name for s in spec.states if s.terminal}
    for t in spec.transitions:
        if _wide(t.sources, t.target, terminal):
            where = "every non-terminal state" if "*" in t.sources else ", ".join(t.sources)
            goes = "stays in its state" if t.target == "=" else t.target
            footer.append(f"{t.event}: {where} → {goes}")
            continue
        for src in t.sources:
            dst = src if t.target == "=" else t.target
            if dst == src:
                loops.setdefault(src, []).append(t.event)
            else:
                labels = pairs.setdefault((src, dst), [])
                if t.event not in labels:
                    labels.append(t.event)
    edges = [(s, d, ", ".join(labels)) for (s, d), labels in pairs.items()]
    return edges, loops, footer


def _ranks(spec: ProcessSpec, edges: list[_Edge]) -> dict[str, int]:
    """Longest forward path from the initial state, loops back removed by a DFS."""
    nexts: dict[str, list[str]] = {s.name: [] for s in spec.states}
    for src, dst, _ in edges:
        nexts[src].append(dst)
    terminal = {s.name for s in spec.states if s.terminal}
    for t in spec.transitions:  # wide transitions still place their target below
        if _wide(t.sources, t.target, terminal) and t.target != "=":
            sources = (
                [s.name for s in spec.states if not s.terminal] if "*" in t.sources else t.sources
            )
            for src in sources:
                if t.target not in nexts[src]:
                    nexts[src].append(t.target)
    forward: dict[str, list[str]] = {name: [] for name in nexts}
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done
    order: list[str] = []
    stack: list[tuple[str, int]] = [(spec.initial, 0)]
    state[spec.initial] = 1
    while stack:
        node, i = stack.pop()
        if i < len(nexts[node]):
            stack.append((node, i + 1))
            child = nexts[node][i]
            if state.get(child) is None:
                forward[node].append(child)
                state[child] = 1
                stack.append((child, 0))
            elif state[child] == 2:
                forward[node].append(child)  # a cross edge, not a loop back
        else:
            state[node] = 2
            order.append(node)
    rank = dict.fromkeys(order, 0)
    for node in reversed(order):  # reverse post-order is a topological order
        for child in forward[node]:
            rank[child] = max(rank[child], rank[node] + 1)
    bottom = max(rank.values(), default=0)
    reached = {dst for _, dst, _ in edges}
    for t in spec.transitions:  # a sink only ``cancel`` reaches sits in the bottom row
        if _wide(t.sources, t.target, terminal) and t.target not in reached:
            rank[t.target] = bottom
    for s in spec.states:
        rank.setdefault(s.name, bottom + 1)
    return rank


def _barycentre(name: str, edges: list[_Edge], slot: dict[str, float], default: float) -> float:
    preds = [slot[s] for s, d, _ in edges if d == name and s in slot]
    return sum(preds) / len(preds) if preds else default


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _label(x: float, y: float, text: str, anchor: str = "middle") -> str:
    w = len(text) * _LABEL_CHAR + 8
    left = {"middle": x - w / 2, "start": x - 4, "end": x - w + 4}[anchor]
    return (
        f'<rect x="{left:.1f}" y="{y - 10:.1f}" width="{w:.1f}" height="15" fill="white" '
        f'opacity="0.9"/>' + _text(x, y + 1, text, "ev", anchor)
    )


def to_svg(spec: ProcessSpec) -> str:
    """The SVG text of ``spec``'s state diagram (see the module docstring)."""
    edges, loops, footer = _classify(spec)
    rank = _ranks(spec, edges)
    rows: dict[int, list[str]] = {}
    for s in spec.states:
        rows.setdefault(rank[s.name], []).append(s.name)
    width_of = {
        s.name: max(
            96.0, _CHAR * max(len(s.name), len("↻ " + ", ".join(loops.get(s.name, [])))) + 24
        )
        for s in spec.states
    }
    # One barycentre pass: order each row by where its predecessors are.
    slot: dict[str, float] = {}
    for r in sorted(rows):
        names = rows[r]
        first = {name: float(i) - (len(names) - 1) / 2 for i, name in enumerate(names)}
        names.sort(key=lambda name: _barycentre(name, edges, slot, first[name]))
        for i, name in enumerate(names):
            slot[name] = i - (len(names) - 1) / 2

    back = [e for e in edges if rank[e[1]] <= rank[e[0]]]
    skip = [e for e in edges if rank[e[1]] > rank[e[0]] + 1]
    left_room = max((len(e[2]) * _LABEL_CHAR for e in back), default=0) + 30 + 16 * len(back)
    right_room = max((len(e[2]) * _LABEL_CHAR for e in skip), default=0) + 30 + 16 * len(skip)
    row_width = {r: sum(width_of[n] for n in ns) + _GAP * (len(ns) - 1) for r, ns in rows.items()}
    core = max(row_width.values())
    centre = 30 + left_room + core / 2
    pos: dict[str, tuple[float, float]] = {}
    for r, names in rows.items():
        x = centre - row_width[r] / 2
        for name in names:
            pos[name] = (x + width_of[name] / 2, 80 + r * _ROW)
            x += width_of[name] + _GAP
    right_edge = {r: max(pos[n][0] + width_of[n] / 2 for n in ns) for r, ns in rows.items()}
    left_edge = {r: min(pos[n][0] - width_of[n] / 2 for n in ns) for r, ns in rows.items()}

    parts: list[str] = []
    for i, (src, dst, text) in enumerate(skip):
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        span = range(rank[src], rank[dst] + 1)
        bulge = max(right_edge[r] for r in span if r in right_edge) + 26 + 16 * i
        sx, ex, ey = x1 + width_of[src] / 2, x2 + width_of[dst] / 4, y2 - _BOX_H / 2
        parts.append(
            f'<path d="M {sx:.1f} {y1:.1f} C {bulge:.1f} {y1:.1f}, {bulge:.1f} {ey - 40:.1f}, '
            f'{ex:.1f} {ey:.1f}" class="edge"/>'
        )
        mx, my = 0.75 * bulge + 0.125 * (sx + ex), 0.5 * (y1 + ey) - 15
        parts.append(_label(mx + 6, my, text, "start"))
    for i, (src, dst, text) in enumerate(back):
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        low, high = sorted((rank[src], rank[dst]))
        bulge = min(left_edge[r] for r in range(low, high + 1) if r in left_edge) - 26 - 16 * i
        sx, ex, ey = x1 - width_of[src] / 2, x2 - width_of[dst] / 4, y2 + _BOX_H / 2
        parts.append(
            f'<path d="M {sx:.1f} {y1:.1f} C {bulge:.1f} {y1:.1f}, {bulge:.1f} {ey + 40:.1f}, '
            f'{ex:.1f} {ey:.1f}" class="edge back"/>'
        )
        mx, my = 0.75 * bulge + 0.125 * (sx + ex), 0.5 * (y1 + ey) + 15
        parts.append(_label(mx - 6, my, text, "end"))
    for src, dst, text in edges:
        if rank[dst] != rank[src] + 1:
            continue
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        sy, ey = y1 + _BOX_H / 2, y2 - _BOX_H / 2
        parts.append(f'<path d="M {x1:.1f} {sy:.1f} L {x2:.1f} {ey:.1f}" class="edge"/>')
        parts.append(_label(x1 + (x2 - x1) * 0.45, sy + (ey - sy) * 0.45, text))

    boxes: list[str] = []
    for s in spec.states:
        x, y = pos[s.name]
        w = width_of[s.name]
        boxes.append(
            f'<rect x="{x - w / 2:.1f}" y="{y - _BOX_H / 2:.1f}" width="{w:.1f}" '
            f'height="{_BOX_H}" rx="10" fill="{_FILL.get(s.category, "#ffffff")}" '
            f'stroke="#333" stroke-width="{3 if s.terminal else 1.2}"/>'
        )
        if s.name in loops:
            boxes.append(_text(x, y - 2, s.name, "st"))
            boxes.append(_text(x, y + 13, "↻ " + ", ".join(loops[s.name]), "loop"))
        else:
            boxes.append(_text(x, y + 5, s.name, "st"))
    ix, iy = pos[spec.initial]
    top = iy - _BOX_H / 2
    start = (
        f'<circle cx="{ix:.1f}" cy="{top - 24:.1f}" r="6" fill="#333"/>'
        f'<path d="M {ix:.1f} {top - 18:.1f} L {ix:.1f} {top:.1f}" class="edge"/>'
    )
    bottom = max(y for _, y in pos.values()) + _BOX_H / 2 + 34
    width = centre + core / 2 + right_room + 30
    notes = []
    for i, line in enumerate(footer):
        notes.append(_text(30, bottom + 18 * i, line, "note", "start"))
        width = max(width, len(line) * 6.6 + 60)
    height = bottom + 18 * len(footer) + 16
    title = f"{spec.title or spec.name} (process {spec.name!r}, v{spec.version})"
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif">',
            f"<title>{escape(title)}</title>",
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            'fill="#333"/></marker></defs>',
            "<style>.edge{fill:none;stroke:#333;stroke-width:1.2;marker-end:url(#arrow)}"
            ".back{stroke-dasharray:5 3;stroke:#555}.st{font-size:13px}.loop{font-size:10px;"
            "fill:#555}.ev{font-size:11px;fill:#1a4d8f}.note{font-size:12px;fill:#444}"
            ".ttl{font-size:15px;font-weight:bold}</style>",
            '<rect width="100%" height="100%" fill="white"/>',
            _text(30, 26, title, "ttl", "start"),
            start,
            *parts,
            *boxes,
            *notes,
            "</svg>",
            "",
        ]
    )
