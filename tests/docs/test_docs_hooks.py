"""The mkdocs hook that turns Sphinx roles into cross-references (no mkdocs build needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("griffe")
HOOK = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "sphinx_roles.py"
spec = importlib.util.spec_from_file_location("sphinx_roles", HOOK)
roles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(roles)


def test_full_names_become_optional_autorefs():
    html = "<p>see :func:<code>cellsde.infer</code> and :class:<code>xarray.Dataset</code></p>"
    out = roles.convert(html)
    assert ":func:" not in out and ":class:" not in out
    assert (
        '<autoref identifier="cellsde.infer" slug="cellsde.inference.infer.infer" optional>' in out
    )
    assert '<autoref identifier="xarray.Dataset" optional><code>xarray.Dataset</code>' in out


def test_short_names_resolve_in_the_scope_of_the_documented_object():
    html = (
        '<h3 id="cellsde.inference.infer.infer" class="doc doc-heading">infer</h3>'
        "<p>:class:<code>~Amortizer</code></p>"
    )
    out = roles.convert(html)
    assert 'identifier="cellsde.inference.amortized.Amortizer"' in out
    assert "<code>Amortizer</code>" in out  # ~ shows the last component


def test_text_without_roles_is_unchanged():
    html = "<p>plain <code>x</code></p>"
    assert roles.convert(html) == html
