"""Plain SVG charts for the Ingest view: stacked bars of outcomes, drawn on the server (no chart library to ship).

Each bar's tooltip (an SVG ``<title>``) gives its exact counts, so a bar too thin to read still tells its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

COLOURS = {
    "registered": "#2f9e44",
    "duplicate": "#74c0fc",
    "blocked": "#f08c00",
    "failed": "#e03131",
}


def legend(series: Sequence[str]) -> str:
    return " ".join(
        f'<span class="key"><i style="background:{COLOURS.get(name, "#868e96")}"></i>{escape(name)}</span>'
        for name in series
    )


def stacked_bars(
    bars: Sequence[dict[str, Any]],
    *,
    label: str,
    series: Sequence[str] = tuple(COLOURS),
    width: int = 900,
    height: int = 180,
    test_id: str = "chart",
) -> str:
    """One bar per entry of ``bars`` (``{label: ..., series...: count}``), its segments stacked bottom-up."""
    if not bars:
        return '<p class="muted">nothing to draw yet</p>'
    top = max(1, max(sum(int(bar.get(name) or 0) for name in series) for bar in bars))
    step = width / len(bars)
    gap = 1 if step > 3 else 0
    parts = [
        f'<svg data-testid="{escape(test_id)}" class="chart" viewBox="0 0 {width} {height + 18}" '
        f'preserveAspectRatio="none" style="height:{height + 18}px" role="img" aria-label="{escape(label)}">',
        f'<text x="0" y="{height + 14}" class="axis">{escape(str(bars[0][label]))}</text>',
        f'<text x="{width}" y="{height + 14}" class="axis" text-anchor="end">{escape(str(bars[-1][label]))}</text>',
        f'<text x="2" y="10" class="axis">{top:,}</text>',
    ]
    for n, bar in enumerate(bars):
        x, y = n * step, float(height)
        counts = {name: int(bar.get(name) or 0) for name in series}
        tip = escape(f"{bar[label]}: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        parts.append(f"<g><title>{tip}</title>")
        for name, count in counts.items():
            if not count:
                continue
            h = height * count / top
            y -= h
            parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(step - gap, 0.5):.2f}" height="{h:.2f}" '
                f'fill="{COLOURS.get(name, "#868e96")}"/>'
            )
        parts.append(f'<rect x="{x:.2f}" y="0" width="{step:.2f}" height="{height}" fill="transparent"/></g>')
    parts.append("</svg>")
    return "".join(parts)
