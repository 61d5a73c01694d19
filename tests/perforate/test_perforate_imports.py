"""perforate stands alone: it never imports cellsde (or models_bio)."""

import subprocess
import sys
from pathlib import Path

import perforate


def test_public_api_listed_once():
    assert len(perforate.__all__) == len(set(perforate.__all__))
    assert all(hasattr(perforate, n) for n in perforate.__all__)


def test_never_imports_cellsde():
    code = (
        "import sys, perforate, perforate.train;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('cellsde', 'models_bio')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    src = Path(perforate.__file__).parent
    for f in src.glob("*.py"):
        text = f.read_text()
        assert "import cellsde" not in text and "from cellsde" not in text, f
