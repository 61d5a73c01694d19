"""mkdocs hook: serve MathJax from the site itself (no CDN).

The MathJax 3 bundle (``tex-mml-chtml.js`` and its web fonts) comes from the
``django-static-mathjax`` wheel (Apache-2.0; no Django needed to read its files), which the
``docs`` extra installs. The files are added to the build as ``javascripts/mathjax/...``, the
path ``mkdocs.yml`` loads, so ``mkdocs build`` and ``mkdocs serve`` work offline.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

TARGET = "javascripts/mathjax"


def _bundle() -> Path:
    try:
        import mathjax  # the django-static-mathjax distribution
    except ImportError:
        raise PluginError(
            "MathJax is served from the site: pip install django-static-mathjax "
            "(part of cellsde[docs])"
        ) from None
    root = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (root / "tex-mml-chtml.js").is_file():
        raise PluginError(f"no tex-mml-chtml.js under {root}; reinstall django-static-mathjax")
    return root


def on_files(files, config):
    root = _bundle()
    wanted = [
        root / "tex-mml-chtml.js",
        *sorted((root / "output/chtml/fonts/woff-v2").glob("*.woff")),
    ]
    for path in wanted:
        rel = path.relative_to(root).as_posix()
        files.append(File.generated(config, f"{TARGET}/{rel}", abs_src_path=str(path)))
    return files
