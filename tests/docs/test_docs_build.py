"""The documentation site builds with ``mkdocs build --strict`` (warnings are errors)."""

from __future__ import annotations

import os
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
