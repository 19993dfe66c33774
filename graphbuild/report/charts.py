"""The index's charts as Plotly figure specs (plain JSON data; plotly.js draws them).

Plotly reads a few HTML tags inside its texts (``<b>``, ``<br>``, ``<a href>``), so every
text from the corpus or from DBpedia goes in HTML-escaped and shows literally.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import plotly.graph_objects as go

from graphbuild.report.tally import HISTOGRAM_BINS, RankedResource, TypeCount

Figure = dict[str, Any]
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}
CONFIG = {"displaylogo": False, "responsive": True}


def top_resources(
    ranking: Sequence[RankedResource],
    *,
    name: Callable[[str], str],
    label: Callable[[str], str | None],
    url: Callable[[str], str],
) -> Figure:
    """Horizontal bars, most mentioned resource on top; a click opens its page.

    Bars are keyed by the (unique) short IRI; the label, when enriched, is in the hover.
    """
    shown = list(reversed(ranking))
    bars = go.Bar(
        x=[r.mentions for r in shown],
        y=[text(name(r.iri)) for r in shown],
        orientation="h",
        customdata=[url(r.iri) for r in shown],
        text=[f"{r.documents:,} doc." for r in shown],
        hovertext=[text(label(r.iri) or "") for r in shown],
        textposition="auto",
        hovertemplate="%{y}<br>%{hovertext}<br>%{x:,} mentions, %{text}<extra></extra>",
        marker={"color": "#3b6ea5"},
    )
    height = max(260, 22 * len(shown) + 80)
    return finish(go.Figure(bars), height=height, xaxis={"title": {"text": "mentions"}}, yaxis={"automargin": True})


def confidence_histogram(counts: Sequence[int], *, minimum: float) -> Figure:
    """Links per confidence bin, on a log scale: linkers put most links near 1."""
    width = max(1.0 - minimum, 1e-12) / HISTOGRAM_BINS
    starts = [minimum + i * width for i in range(HISTOGRAM_BINS)]
    labels = [f"{start:.4g}–{start + width:.4g}" for start in starts]
    bars = go.Bar(
        x=[start + width / 2 for start in starts],
        y=list(counts),
        width=[width * 0.95] * HISTOGRAM_BINS,
        customdata=labels,
        hovertemplate="confidence %{customdata}<br>%{y:,} links<extra></extra>",
        marker={"color": "#5a9e6f"},
    )
    top = max(max(counts, default=1), 1)
    # Log scale, one tick per power of ten, starting below 1 so that a bin of one link shows.
    yaxis = {"title": {"text": "links (log scale)"}, "type": "log", "dtick": 1, "range": [-0.3, math.log10(top) + 0.2]}
    return finish(
        go.Figure(bars),
        height=300,
        xaxis={"title": {"text": "confidence"}, "range": [minimum, 1.0]},
        yaxis={**yaxis, "automargin": True},
    )


def top_types(types: Sequence[TypeCount], *, label: Callable[[str], str]) -> Figure:
    shown = list(reversed(types))
    bars = go.Bar(
        x=[t.mentions for t in shown],
        y=[text(label(t.type)) for t in shown],
        orientation="h",
        text=[f"{t.resources:,} res." for t in shown],
        textposition="auto",
        hovertemplate="%{y}<br>%{x:,} mentions, %{text}<extra></extra>",
        marker={"color": "#a5713b"},
    )
    height = max(220, 22 * len(shown) + 80)
    return finish(go.Figure(bars), height=height, xaxis={"title": {"text": "mentions"}}, yaxis={"automargin": True})


def text(value: str) -> str:
    """A corpus or DBpedia text, escaped for Plotly's HTML-like labels."""
    return escape(value, quote=False)


def finish(figure: go.Figure, *, height: int, **layout: Any) -> Figure:
    """The figure as a JSON-ready spec with the report's common layout and config."""
    figure.update_layout(
        template="none",  # plotly.js defaults; the Python theme would add ~10 kB per chart
        height=height,
        margin={"l": 10, "r": 10, "t": 34, "b": 40},  # the top strip is the mode bar's
        font=_FONT,
        plot_bgcolor="#fafafa",
        paper_bgcolor="#ffffff",
        showlegend=False,
        **layout,
    )
    spec: dict[str, Any] = json.loads(figure.to_json())
    spec["config"] = CONFIG
    return spec
