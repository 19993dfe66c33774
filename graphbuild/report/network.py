"""The co-mention network: the top resources as nodes, shared documents as weighted edges.

networkx lays it out (force-directed, seeded so the same store draws the same picture);
Plotly draws it with pan, zoom and a click that opens the resource's page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import plotly.graph_objects as go

from graphbuild.report.charts import Figure, finish, text
from graphbuild.report.tally import RankedResource

_WIDTHS = (0.6, 1.4, 2.6, 4.5)  # edge width per weight class, lightest to heaviest
_LABELLED_NODES = 25
DRAWN_PER_NODE = 6  # each resource's strongest links are drawn; all of them would be a hairball
MAX_TOP = 400  # more nodes than this make no readable picture (and would need scipy to lay out)


@dataclass(frozen=True, slots=True)
class Edge:
    a: str
    b: str
    shared: int


def edges_among(co_mentions: Mapping[str, Mapping[str, int]]) -> list[Edge]:
    """Undirected edges from per-resource co-mention counts, strongest first."""
    seen: dict[tuple[str, str], int] = {}
    for a, others in co_mentions.items():
        for b, shared in others.items():
            if a != b:
                key = (a, b) if a < b else (b, a)
                seen[key] = max(seen.get(key, 0), shared)
    return sorted((Edge(a, b, n) for (a, b), n in seen.items()), key=lambda e: (-e.shared, e.a, e.b))


def strongest(edges: Sequence[Edge], per_node: int = DRAWN_PER_NODE) -> list[Edge]:
    """The edges that are among the ``per_node`` strongest of either end, strongest first."""
    kept: set[Edge] = set()
    count: dict[str, int] = {}
    for edge in edges:  # strongest first
        if count.get(edge.a, 0) < per_node or count.get(edge.b, 0) < per_node:
            kept.add(edge)
            count[edge.a] = count.get(edge.a, 0) + 1
            count[edge.b] = count.get(edge.b, 0) + 1
    return [edge for edge in edges if edge in kept]


def layout(nodes: Sequence[RankedResource], edges: Sequence[Edge]) -> dict[str, tuple[float, float]]:
    """Positions for the nodes: each connected part laid out alone, then the parts packed in
    rows, largest first (one force layout of everything flings the parts to the corners)."""
    graph = nx.Graph()
    graph.add_nodes_from(node.iri for node in nodes)
    # Springs on a log scale: a pair sharing 40,000 documents would otherwise pull the hubs
    # into one spot.
    graph.add_weighted_edges_from((e.a, e.b, 1.0 + math.log(e.shared)) for e in edges)
    parts = sorted(nx.connected_components(graph), key=lambda part: (-len(part), min(part)))
    placed = [_part_layout(graph.subgraph(part)) for part in parts]
    return _pack(placed)


def _part_layout(part: nx.Graph) -> dict[str, tuple[float, float]]:
    """A force layout in a disc whose area grows with the number of nodes."""
    if part.number_of_nodes() == 1:
        return {next(iter(part.nodes)): (0.0, 0.0)}
    # Under 500 nodes (MAX_TOP) networkx lays out with numpy alone; past that it wants scipy.
    positions = nx.spring_layout(part, weight="weight", seed=7, iterations=200)
    radius = math.sqrt(part.number_of_nodes())
    return {node: (float(x) * radius, float(y) * radius) for node, (x, y) in positions.items()}


def _pack(parts: Sequence[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    sizes = [2 * max(1.0, math.sqrt(len(part))) + 1.0 for part in parts]
    row_width = max([*sizes, math.sqrt(sum(s * s for s in sizes)) * 1.4], default=0.0)
    positions: dict[str, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for part, size in zip(parts, sizes):
        if x > 0 and x + size > row_width:
            x, y, row_height = 0.0, y - row_height, 0.0
        for node, (px, py) in part.items():
            positions[node] = (x + size / 2 + px, y - size / 2 + py)
        x += size
        row_height = max(row_height, size)
    return positions


def figure(
    nodes: Sequence[RankedResource],
    edges: Sequence[Edge],
    *,
    name: Callable[[str], str],
    label: Callable[[str], str | None],
    url: Callable[[str], str],
) -> Figure:
    drawn = strongest(edges)
    positions = layout(nodes, drawn)
    traces: list[go.Scatter] = _edge_traces(drawn, positions)
    most = max((n.mentions for n in nodes), default=1)
    labelled = {n.iri for n in nodes[:_LABELLED_NODES]}
    traces.append(
        go.Scatter(
            x=[positions[n.iri][0] for n in nodes],
            y=[positions[n.iri][1] for n in nodes],
            mode="markers+text",
            text=[text(name(n.iri).split(":", 1)[-1]) if n.iri in labelled else "" for n in nodes],
            textposition="top center",
            textfont={"size": 11, "color": "#333"},
            hovertext=[_hover(n, name, label) for n in nodes],
            hoverinfo="text",
            customdata=[url(n.iri) for n in nodes],
            marker={
                "size": [10 + 30 * math.sqrt(n.mentions / most) for n in nodes],
                "color": [n.documents for n in nodes],
                "colorscale": "Blues",
                "cmin": 0,
                "cmax": max((n.documents for n in nodes), default=1),
                "line": {"width": 1, "color": "#1f3d5c"},
                "colorbar": {"title": {"text": "documents"}, "thickness": 12},
            },
        )
    )
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    xaxis = {**hidden, "range": _padded([x for x, _ in positions.values()])}
    yaxis = {**hidden, "range": _padded([y for _, y in positions.values()]), "scaleanchor": "x"}
    return finish(go.Figure(traces), height=720, xaxis=xaxis, yaxis=yaxis, dragmode="pan", hovermode="closest")


def _padded(values: Sequence[float]) -> list[float]:
    """The span of ``values`` with room on each side for the labels of the outer nodes."""
    low, high = min(values, default=-1.0), max(values, default=1.0)
    room = max(high - low, 1.0) * 0.12
    return [low - room, high + room]


def _edge_traces(edges: Sequence[Edge], positions: Mapping[str, tuple[float, float]]) -> list[go.Scatter]:
    if not edges:
        return []
    heaviest = max(e.shared for e in edges)
    classes: list[list[Edge]] = [[] for _ in _WIDTHS]
    for edge in edges:
        # Weight classes on a log scale: most pairs share one document, a few share hundreds.
        index = 1 if heaviest <= 1 else round(math.log(edge.shared) / math.log(heaviest) * (len(_WIDTHS) - 1))
        classes[index].append(edge)
    traces = []
    for width, members in zip(_WIDTHS, classes):
        if not members:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for edge in members:
            (x0, y0), (x1, y1) = positions[edge.a], positions[edge.b]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        opacity = 0.35 + 0.15 * _WIDTHS.index(width)
        traces.append(
            go.Scatter(
                x=xs, y=ys, mode="lines", hoverinfo="skip", line={"width": width, "color": "#7a8ca0"}, opacity=opacity
            )
        )
    return traces


def _hover(node: RankedResource, name: Callable[[str], str], label: Callable[[str], str | None]) -> str:
    lines = [text(name(node.iri))]
    shown = label(node.iri)
    if shown:
        lines.append(text(shown))
    lines.append(f"{node.mentions:,} mentions in {node.documents:,} documents")
    return "<br>".join(lines)
