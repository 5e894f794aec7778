"""A self-contained HTML report: sections of text, tables and figures (PNG embedded as data URIs)."""

from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1280px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: right; white-space: nowrap; }
th { white-space: normal; min-width: 4em; } td.text { white-space: normal; min-width: 7em; max-width: 28em; }
th { background: #f0f0f0; } td.text { text-align: left; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; margin-top: .3em; }
.meta { font-size: .85em; color: #666; }
.verdict-holds { color: #1a7f37; font-weight: bold; } .verdict-fails { color: #b42318; font-weight: bold; }
.verdict-open { color: #8a6d00; font-weight: bold; }
"""


@dataclass
class Figure:
    path: Path
    caption: str


@dataclass
class Table:
    columns: list[str]
    rows: list[list]
    caption: str = ""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>"
    text = html.escape(str(value))
    css = ""
    if text in ("holds", "holds under assumption", "theory preferred", "supported"):
        css = ' class="text verdict-holds"'
    elif text in ("fails", "alternative preferred", "not supported"):
        css = ' class="text verdict-fails"'
    elif text in ("inconclusive", "theory by AIC, poor fit"):
        css = ' class="text verdict-open"'
    elif not isinstance(value, (int, float)):
        css = ' class="text"'
    return f"<td{css}>{text}</td>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<div class='scroll'><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _figure(figure: Figure) -> str:
    data = base64.b64encode(Path(figure.path).read_bytes()).decode()
    return (f'<figure><img alt="{html.escape(figure.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>")


def write_report(path, title: str, sections: list[Section], metadata: dict | None = None) -> Path:
    """Write one HTML file with every figure embedded (it can be mailed or archived on its own)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"generated": time.strftime("%Y-%m-%d %H:%M:%S"), "statmech-nn": __version__, **(metadata or {})}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             "<p class='meta'>" + " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in meta.items())
             + "</p>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
        parts.extend(_table(t) for t in section.tables)
        parts.extend(_figure(f) for f in section.figures)
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
    return path
