"""The dashboard's charts: Vega-Lite specifications made with Altair, rendered to SVG on the server by
vl-convert — no JavaScript in the browser, nothing the page's Content-Security-Policy would block (the
SVG has presentation attributes only, no <style> or style attributes; tests/dashboard checks it). Each
SVG carries its title and description (<title>, <desc>, role="img"); the page shows it as an image
with the same text and the numbers in a table beside it.

Rendering takes 0.1–0.4 s of CPU in vl-convert's own JavaScript runtime, so it runs in a thread
(`asyncio.to_thread`), one at a time, and DashboardService caches the result.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import vl_convert as vlc

__all__ = ["Chart", "Point", "render_svg", "spec"]

_LOCK = threading.Lock()  # vl-convert renders one at a time anyway; keep the threads from piling up
FONT = "Arial, Helvetica, sans-serif"
COLOURS = [
    "#01689b",
    "#e17000",
    "#39870c",
    "#a90061",
    "#42145f",
    "#ca005d",
    "#007bc7",
    "#673327",
    "#8fcae7",
    "#f9e11e",
    "#76d2b6",
]


@dataclass(frozen=True, slots=True)
class Point:
    x: str  # category or time label
    y: float | None  # None: suppressed or unknown (a gap, never a zero)
    series: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    description: str
    kind: Literal["bar", "line"]
    x_title: str
    y_title: str
    points: Sequence[Point]
    percent: bool = False


def spec(chart: Chart) -> dict[str, Any]:
    """The Vega-Lite specification of `chart` (data inline)."""
    scale = 0.01 if chart.percent else 1.0  # percentages as fractions, for the axis format

    def y(p: Point) -> float | None:
        return None if p.y is None else p.y * scale

    if chart.kind == "bar":
        values = [{"x": p.x, "y": y(p), "reeks": p.series} for p in chart.points if p.y is not None]
    else:  # a suppressed point stays on the axis, as a break in the line
        values = [{"x": p.x, "y": y(p), "reeks": p.series} for p in chart.points]
    domain = list(dict.fromkeys(p.x for p in chart.points))
    data = alt.Data(values=values)  # type: ignore[no-untyped-call]
    y_axis = alt.Axis(format=".0%" if chart.percent else ",~r", labelFontSize=12, titleFontSize=13)
    if chart.kind == "bar":
        base = (
            alt.Chart(data)
            .mark_bar(color=COLOURS[0])
            .encode(
                y=alt.Y(
                    "x:N", sort="-x", title=chart.x_title, axis=alt.Axis(labelFontSize=12, labelLimit=220)
                ),
                x=alt.X("y:Q", title=chart.y_title, axis=y_axis),
            )
        )
        height = max(60, 24 * len(values))
    else:
        base = (
            alt.Chart(data)
            .mark_line(point=True, strokeWidth=2, invalid="break-paths-show-domains")
            .encode(
                x=alt.X(
                    "x:O",
                    title=chart.x_title,
                    sort=None,
                    scale=alt.Scale(domain=domain),
                    axis=alt.Axis(labelAngle=-45, labelFontSize=11),
                ),
                y=alt.Y("y:Q", title=chart.y_title, axis=y_axis),
                color=alt.Color(
                    "reeks:N", title=None, scale=alt.Scale(range=COLOURS), legend=alt.Legend(orient="bottom")
                )
                if any(p.series for p in chart.points)
                else alt.value(COLOURS[0]),
            )
        )
        height = 220
    out: dict[str, Any] = (
        base.properties(width=420, height=height, title=chart.title, description=chart.description)
        .configure(font=FONT)
        .configure_view(stroke=None)
        .to_dict()
    )
    return out


_ROOT = re.compile(r"<svg\b([^>]*)>")


def render_svg(chart: Chart) -> str:
    """The chart as an SVG document with its title and description (blocking: call in a thread)."""
    with _LOCK:
        # Dutch number formats (1.234; 72,5%); no data from elsewhere
        svg: str = vlc.vegalite_to_svg(
            spec(chart), format_locale="nl-NL", time_format_locale="nl-NL", allowed_base_urls=[]
        )
    title, desc = html.escape(chart.title), html.escape(chart.description)
    ident = f"grafiek-{chart.name}"
    head = (
        f'<svg\\1 role="img" aria-labelledby="{ident}-titel {ident}-beschrijving">'
        f'<title id="{ident}-titel">{title}</title><desc id="{ident}-beschrijving">{desc}</desc>'
    )
    return _ROOT.sub(head, svg, count=1)
