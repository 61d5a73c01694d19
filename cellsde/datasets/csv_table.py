"""Read a lab CSV file as text and turn its columns into numbers with precise errors.

Everything is read as str first, so a bad value can be reported by column and data row
(data row 1 is the first line after the header) instead of becoming NaN silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cellsde.errors import ImportFormatError

__all__ = ["MISSING_TOKENS", "parse_time_header", "read_text_table", "require_columns", "to_float"]

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
_TIME_HEADER = re.compile(
    r"^\s*[A-Za-z_]{0,3}\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*[A-Za-z]{0,3}\s*$"
)


def read_text_table(path: str | Path, *, sep: str = ",") -> pd.DataFrame:
    """Read ``path`` as a CSV table of str (no values parsed, header names stripped).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ImportFormatError
        If it is empty, binary (not text), unparseable as CSV, or has no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise ImportFormatError(f"{str(path)!r} is a directory, not a CSV file")
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise ImportFormatError(f"{str(path)!r} is empty; expected a CSV table with a header row")
    if b"\x00" in head:
        raise ImportFormatError(
            f"{str(path)!r} is not a text CSV file (it holds binary data; netCDF, MAT and "
            "Excel files need their own readers)"
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not just a multi-byte character cut at the boundary
            raise ImportFormatError(
                f"{str(path)!r} is not UTF-8 text (byte {err.start}); save the CSV as UTF-8"
            ) from None
    try:  # header=None: a row with more fields than the header is an error, not an index
        table = pd.read_csv(
            path,
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            encoding="utf-8-sig",  # spreadsheet exports often start with a byte-order mark
        )
    except pd.errors.EmptyDataError:
        raise ImportFormatError(f"{str(path)!r} has no CSV header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        msg = str(err).strip().splitlines()[-1]
        raise ImportFormatError(f"{str(path)!r} is not a well-formed CSV table: {msg}") from None
    header = [str(c).strip() for c in table.iloc[0]]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise ImportFormatError(f"{str(path)!r} repeats the column names {repeated}")
    table = table.iloc[1:].reset_index(drop=True).fillna("")
    table.columns = header
    if len(table) == 0:
        raise ImportFormatError(
            f"{str(path)!r} has a header ({', '.join(table.columns)}) but no data rows"
        )
    return table


def require_columns(table: pd.DataFrame, names: Sequence[str], path: str | Path) -> None:
    """Raise :class:`ImportFormatError` naming the first missing column and listing all."""
    for name in names:
        if name not in table.columns:
            hint = ""
            if len(table.columns) == 1:
                for sep, label in ((";", "';'"), ("\t", "'\\t' (tab)")):
                    if sep in table.columns[0]:
                        hint = f"; the header looks {label}-separated: pass sep={label.split()[0]}"
            raise ImportFormatError(
                f"{str(path)!r} has no column {name!r}; its columns are "
                f"{', '.join(repr(c) for c in table.columns)}{hint}"
            )


def to_float(values: pd.Series, column: str, rows: np.ndarray) -> np.ndarray:
    """Parse a str column into float64 exactly (NaN for missing tokens).

    Parameters
    ----------
    values : pandas.Series of str, shape (row,)
    column : str
        Column name, for messages.
    rows : numpy.ndarray of int, shape (row,)
        Data row numbers (1-based), for messages.

    Raises
    ------
    ImportFormatError
        Naming the column, the data row and the value that is not a finite number.
    """
    text = values.astype(str).str.strip().to_numpy(dtype=str)  # (row,)
    missing = np.isin(np.char.lower(text), list(MISSING_TOKENS))
    out = np.full(text.shape, np.nan)
    present = np.flatnonzero(~missing)
    try:
        parsed = text[present].astype(np.float64)
    except ValueError:
        parsed = None
    if parsed is None or not np.all(np.isfinite(parsed)):
        for i in present:
            try:
                ok = np.isfinite(float(text[i]))
            except ValueError:
                ok = False
            if not ok:
                raise ImportFormatError(
                    f"column {column!r}, data row {rows[i]}: {str(text[i])!r} is not a finite number"
                ) from None
    out[present] = parsed
    return out


def parse_time_header(name: str) -> float | None:
    """Time encoded in a wide-layout column header ("5", "5.0", "t5", "t_5", "5min"), or None."""
    match = _TIME_HEADER.match(name)
    if match is None:
        return None
    return float(match.group(1))
