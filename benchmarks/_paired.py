"""Paired comparison over seeds: "beats", "ties with" or "loses to", in words with numbers.

Shared by the dendrite studies (``perforate_classification.py``, ``compress_endnsde.py``);
run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import statistics


def paired(a: list[float], b: list[float], *, lower_is_better: bool, fmt: str = "{:+.3f}") -> str:
    """Compare ``a`` with ``b`` seed by seed.

    "beats" / "loses to" when the mean paired difference is more than two standard errors
    from 0 in the better / worse direction, else "ties with"; followed by the mean difference
    ± its standard error and in how many seeds ``a`` was better.
    """
    d = [x - y for x, y in zip(a, b, strict=True)]
    m = statistics.mean(d)
    se = statistics.stdev(d) / len(d) ** 0.5 if len(d) > 1 else float("inf")
    gain = -m if lower_is_better else m
    word = "beats" if gain > 2 * se else "loses to" if gain < -2 * se else "ties with"
    better = sum((x < 0) if lower_is_better else (x > 0) for x in d)
    return f"{word} ({fmt.format(m)} ± {fmt.format(se).lstrip('+')}, better in {better}/{len(d)} seeds)"
