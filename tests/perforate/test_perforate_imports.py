"""perforate stands alone: it never imports cellsde (or models_bio)."""

import ast
from pathlib import Path

import perforate


def test_public_api_listed_once():
    assert len(perforate.__all__) == len(set(perforate.__all__))
    assert all(hasattr(perforate, n) for n in perforate.__all__)


def test_never_imports_cellsde():
    for f in Path(perforate.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in ("cellsde", "models_bio"), (f.name, name)
