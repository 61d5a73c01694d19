"""The documentation site builds with ``mkdocs build --strict`` (warnings are errors)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mkdocs() -> str | None:
    exe = Path(sys.executable).with_name("mkdocs")
    return str(exe) if exe.exists() else shutil.which("mkdocs")


def test_docs_build_strict(tmp_path):
    exe = mkdocs()
    if exe is None:
        pytest.skip("mkdocs is not installed (pip install -e .[docs])")
    site = tmp_path / "site"
    proc = subprocess.run(
        [exe, "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    for page in ("index.html", "api/models_bio/index.html", "tutorials/circadian/index.html"):
        assert (site / page).is_file(), page
    pages = {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    raw = {str(p.relative_to(site)): re.findall(r":(?:func|class|meth|mod|attr|data):<code>", t)
           for p, t in pages.items()}  # fmt: skip
    assert not any(raw.values()), {k: len(v) for k, v in raw.items() if v}
    links = sum(t.count('class="autorefs autorefs-internal"') for t in pages.values())
    assert links > 150  # the docstrings' roles became links to the API entries
    # MathJax from the site itself: no script from another host
    scripts = {s for t in pages.values() for s in re.findall(r'<script src="([^"]+)"', t)}
    assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))], scripts
    assert (site / "javascripts/mathjax/tex-mml-chtml.js").stat().st_size > 500_000
    assert any((site / "javascripts/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
