"""Write a benchmark's results into docs/benchmarks.md: one ``## `` section or one ``### `` part.

Shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so this folder is on
``sys.path``). Writes are atomic (temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def _span(doc: str, heading: str) -> tuple[int, int] | None:
    """Start and end of section ``heading`` (a ``## `` line) in ``doc``, up to the next ``## ``."""
    start = doc.find(heading + "\n")
    while start > 0 and doc[start - 1] != "\n":  # a whole line only
        start = doc.find(heading + "\n", start + 1)
    if start < 0:
        return None
    nxt = doc.find("\n## ", start + len(heading))
    return start, len(doc) if nxt < 0 else nxt + 1


def _write(doc: str, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bench-", suffix=".md")
    with os.fdopen(fd, "w") as fh:
        fh.write(doc.rstrip("\n") + "\n")
    os.replace(tmp, path)


def write_section(heading: str, body: str, *, path: Path = DOCS, after: str | None = None) -> None:
    """Replace section ``heading`` (to the next ``## ``) with ``heading`` + ``body``.

    A new section goes after section ``after`` when that exists, else at the end.
    """
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{heading}\n\n{body.strip()}\n"
    span = _span(doc, heading)
    if span is None:
        anchor = _span(doc, after) if after else None
        at = anchor[1] if anchor else len(doc)
        doc = doc[:at].rstrip("\n") + "\n\n" + block + ("\n" + doc[at:] if at < len(doc) else "")
    else:
        a, b = span
        doc = doc[:a] + block + ("\n" + doc[b:] if b < len(doc) else "")
    _write(doc, path)


def write_subsection(heading: str, text: str, *, path: Path = DOCS) -> None:
    """Put ``text`` (starting with its ``### `` title line) into section ``heading``.

    The part with the same title is replaced (up to the next ``### `` or ``## ``), other parts
    are kept; the section is created at the end of the file when missing.
    """
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    title = text.splitlines()[0]
    if not title.startswith("### "):
        raise ValueError(f"a subsection starts with '### ', got {title!r}")
    span = _span(doc, heading)
    if span is None:
        _write(doc.rstrip("\n") + f"\n\n{heading}\n\n{text.strip()}\n", path)
        return
    a, b = span
    body = doc[a:b]
    s = body.find(title + "\n")
    if s >= 0:
        e = body.find("\n### ", s + len(title))
        body = body[:s] + text.strip() + "\n" + ("\n" + body[e + 1 :] if e >= 0 else "")
    else:
        body = body.rstrip("\n") + "\n\n" + text.strip() + "\n"
    _write(doc[:a] + body.rstrip("\n") + "\n" + ("\n" + doc[b:] if b < len(doc) else ""), path)
