"""The site's layout on disk: page names, the template environment, assets, atomic output.

Pages live at ``index.html``, ``network.html``, ``documents[-N].html``, ``resources[-N].html``
(paged lists), ``documents/NAME.html`` (+ ``.ttl``), ``resources/NAME.html`` and ``assets/``.
Page names are a readable slug plus a hash of the full id or IRI, so any id or IRI maps to a
safe, unique file name on every file system (case-insensitive ones included).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pyoxigraph import Quad, RdfFormat

from graphbuild import __version__
from graphbuild.errors import ReportError
from graphbuild.model.vocab import PREFIXES, compact

DOCUMENTS = "documents"
RESOURCES = "resources"
ASSETS = "assets"
MARKER = ".graphbuild-report"
PAGE_SIZE = 1000
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_HERE = Path(__file__).resolve().parent
_WEB_SCHEMES = ("http://", "https://")
T = TypeVar("T")


@functools.lru_cache(maxsize=1 << 16)
def page_name(key: str) -> str:
    """``Cancer_pain-1a2b3c4d5e6f7a8b`` for ``http://dbpedia.org/resource/Cancer_pain``.

    64 bits of hash: ids that share their first 48 safe characters still get distinct names
    in a corpus of millions.
    """
    local = re.split(r"[/#]", key.rstrip("/#"))[-1] or key
    slug = _UNSAFE.sub("_", local).strip("_")[:48] or "x"
    return f"{slug}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:16]}"


def document_path(doc_id: str) -> str:
    return f"{DOCUMENTS}/{page_name(doc_id)}.html"


def resource_path(iri: str) -> str:
    return f"{RESOURCES}/{page_name(iri)}.html"


def list_path(kind: str, page: int) -> str:
    """The N-th page (from 1) of the documents or resources list."""
    return f"{kind}.html" if page == 1 else f"{kind}-{page}.html"


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of ``size`` (the pages of a paged list)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def confidence_class(confidence: float | None) -> str:
    """Colour class of a mention: c4 (>= 0.99) … c0 (< 0.5), cn without a confidence."""
    if confidence is None:
        return "cn"
    for name, floor in (("c4", 0.99), ("c3", 0.9), ("c2", 0.75), ("c1", 0.5)):
        if confidence >= floor:
            return name
    return "c0"


def web_link(iri: str) -> str | None:
    """The IRI as a link target only when it is http(s): no ``javascript:`` from the corpus."""
    return iri if iri.startswith(_WEB_SCHEMES) else None


class Site:
    """Renders templates into one output folder."""

    def __init__(self, folder: Path, *, store: str, generated: str | None = None, document_pages: bool = True) -> None:
        self.folder = folder
        self.document_pages = document_pages
        self.pages = 0
        self.store_label = store
        self.generated = generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self.env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            short=functools.lru_cache(maxsize=1 << 16)(compact),
            conf_class=confidence_class,
            web_link=web_link,
            number=_number,
            conf=_confidence,
        )
        self.env.globals.update(
            share=_share,
            doc_url=document_path,
            res_url=resource_path,
            list_url=list_path,
            version=__version__,
            doc_pages=document_pages,
            store=store,
            generated=self.generated,
        )
        for sub in (DOCUMENTS, RESOURCES, ASSETS):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def write(self, template: str, path: str, **values: Any) -> None:
        """Render ``template`` to ``path`` (relative to the site root)."""
        root = "../" * path.count("/")
        html = self.env.get_template(template).render(root=root, **values)
        (self.folder / path).write_text(html, encoding="utf-8")
        self.pages += 1

    def write_turtle(self, path: str, quads: Iterable[Quad]) -> None:
        """The quads as Turtle (graphs merged, subjects as stored; ``graphbuild export`` sorts)."""
        triples = [quad.triple for quad in quads]
        with (self.folder / path).open("wb") as out:
            pyoxigraph.serialize(triples, out, RdfFormat.TURTLE, prefixes=PREFIXES)

    def write_assets(self) -> None:
        for name in ("style.css", "report.js"):
            shutil.copyfile(_HERE / "static" / name, self.folder / ASSETS / name)
        # plotly.js from the plotly wheel (MIT; its licence banner heads the file).
        plotly_js = resources.files("plotly") / "package_data" / "plotly.min.js"
        with resources.as_file(plotly_js) as source:
            shutil.copyfile(source, self.folder / ASSETS / "plotly.min.js")


@contextmanager
def staged(output: Path) -> Iterator[Path]:
    """A fresh folder beside ``output`` that replaces it only once the site is complete.

    An existing ``output`` is replaced only if it is empty or an earlier report, so a
    mistyped output folder never wipes someone's files.
    """
    output = output.resolve()
    if output.exists() and not output.is_dir():
        raise ReportError(f"{output} exists and is not a folder; choose another", setting="output")
    if output.is_dir() and any(output.iterdir()) and not (output / MARKER).exists():
        raise ReportError(f"{output} is not empty and holds no graphbuild report; choose an empty or new folder", setting="output")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        staging = output.parent / f".{output.name}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as exc:
        raise ReportError(f"cannot write the report to {output}: {exc.strerror or exc}") from exc
    try:
        yield staging
        (staging / MARKER).write_text(f"graphbuild {__version__}\n", encoding="utf-8")
        _swap(staging, output)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {output}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, output: Path) -> None:
    old = output.parent / f".{output.name}.old-{os.getpid()}"
    if output.exists():
        output.rename(old)
    staging.rename(output)
    shutil.rmtree(old, ignore_errors=True)


def _number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}"


def _confidence(value: float | None) -> str:
    # Linkers write many nines (0.999999999953161): rounding would turn doubt into 1.
    return "–" if value is None else repr(value)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"
