"""mkdocs hook: render the Sphinx roles of numpydoc docstrings as API cross-references.

The docstrings say :func:`cellsde.simulate` or :class:`~cellsde.nn.endnsde.ENDnSDE`, which
mkdocstrings shows verbatim (":func:" then the code). After each page is rendered, every
role becomes an optional autorefs cross-reference: a link when the target has an API entry,
plain code otherwise (an external name such as ``xarray.Dataset``). Short names are resolved
with griffe in the scope of the documented object they appear in (``Amortizer`` in
``cellsde.inference.infer`` is ``cellsde.inference.amortized.Amortizer``); ``~`` shows the
last component only, as in Sphinx.
"""

from __future__ import annotations

import functools
import html
import re

import griffe

ROLES = "func|class|meth|mod|attr|data|obj|exc|const|func|py:func|py:class"
ROLE = re.compile(rf":(?:{ROLES}):<code>([^<]+)</code>")
HEADING = re.compile(r'<h[1-6] id="([A-Za-z_][\w.]*)" class="doc doc-heading"')
PACKAGES = ("cellsde", "models_bio", "perforate")


@functools.cache
def _package(name: str):
    return griffe.load(name, search_paths=["."])


def resolve(context: str | None, name: str) -> str:
    """The full path of ``name`` as seen from the documented object ``context``."""
    if name.split(".")[0] in PACKAGES or context is None:
        return name
    root, _, rest = context.partition(".")
    if root not in PACKAGES:
        return name
    head, _, tail = name.partition(".")
    try:
        obj = _package(root)[rest] if rest else _package(root)
    except (KeyError, griffe.AliasResolutionError):
        return name
    while obj is not None:
        try:
            found = obj.resolve(head)
        except (griffe.NameResolutionError, griffe.AliasResolutionError, KeyError):
            obj = obj.parent
            continue
        return f"{found}.{tail}" if tail else found
    return name


def canonical(path: str) -> str:
    """Where ``path`` is defined (``cellsde.simulate`` -> ``cellsde.simulation.simulate.simulate``)."""
    root, _, rest = path.partition(".")
    if root not in PACKAGES or not rest:
        return path
    try:
        obj = _package(root)[rest]
        obj = obj.final_target if obj.is_alias else obj
        last = rest.rsplit(".", 1)[-1]
        if obj.is_module and last in obj.members:  # `simulate` the function in `simulate.py`
            obj = obj[last]
        return obj.path
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return path


def convert(text: str) -> str:
    """``text`` (a rendered page) with every role replaced by an optional cross-reference."""
    out, last, context = [], 0, None
    events = sorted(
        [(m.start(), "h", m) for m in HEADING.finditer(text)]
        + [(m.start(), "r", m) for m in ROLE.finditer(text)],
        key=lambda e: e[0],
    )
    for _, kind, match in events:
        if kind == "h":
            context = match.group(1)
            continue
        raw = html.unescape(match.group(1)).strip()
        short = raw.startswith("~")
        name = raw.lstrip("~.").rstrip("()")
        shown = name.rsplit(".", 1)[-1] if short else name
        target = resolve(context, name)
        where = canonical(target)  # tried second: the object's own API entry
        slug = f' slug="{html.escape(where)}"' if where != target else ""
        out.append(text[last : match.start()])
        out.append(
            f'<autoref identifier="{html.escape(target)}"{slug} optional>'
            f"<code>{html.escape(shown)}</code></autoref>"
        )
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def on_page_content(html_text: str, page, config, files) -> str:
    return convert(html_text)
