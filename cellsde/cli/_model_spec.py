"""MODEL on the command line: a registered name (with --ligand/--dose options) or an SBML file.

Shared by ``simulate`` and ``models``, so ``cellsde models FILE.xml`` describes exactly the model
that ``cellsde simulate FILE.xml`` runs.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

from cellsde.errors import CellsdeError


def model_options(args: argparse.Namespace) -> dict[str, object]:
    """Constructor options given on the command line (``--ligand``, ``--dose``, ``--dose-units``).

    Raises
    ------
    CellsdeError
        ``--dose`` without ``--dose-units``: a dose is never read in an assumed unit.
    """
    if args.dose is not None and args.dose_units is None:
        raise CellsdeError(
            f"--dose {args.dose:g} needs --dose-units (e.g. ng/mL, nM, ug/mL); nothing is assumed"
        )
    given = {"ligand": args.ligand, "dose": args.dose, "dose_units": args.dose_units}
    return {k: v for k, v in given.items() if v is not None}


def is_sbml_path(spec: str) -> bool:
    """True when ``spec`` names a file (an .xml/.sbml suffix or an existing path)."""
    path = Path(spec)
    return path.suffix.lower() in (".xml", ".sbml") or path.exists()


def model_from_spec(spec: str, options: dict[str, object] | None = None) -> Any:
    """A registered model (built with ``options``), or an SBML file read with ``read_sbml``.

    Raises
    ------
    CellsdeError
        Unknown name (the registered ones are listed), options the model does not take,
        or SBML support not installed.
    FileNotFoundError
        An SBML path that does not exist.
    """
    import models_bio
    from models_bio.registry import constructor

    options = options or {}
    if spec in models_bio.available():
        accepted = inspect.signature(constructor(spec)).parameters
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise CellsdeError(f"model {spec!r} takes no {flags} option")
        return models_bio.get(spec, **options)
    if options:
        raise CellsdeError(
            "--ligand/--dose/--dose-units apply to registered models such as guo2024"
        )
    if is_sbml_path(spec):
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"SBML file {spec!r} does not exist")
        try:
            from models_bio.sbml import read_sbml
        except ImportError as err:
            raise CellsdeError(f"cannot read SBML ({err}); install cellsde[sbml]") from None
        return read_sbml(path)
    raise CellsdeError(
        f"unknown model {spec!r}; available models: {', '.join(models_bio.available())} "
        "(or give the path of an SBML .xml file)"
    )


def stimulus_coords(model: Any, args: argparse.Namespace, n_cells: int) -> dict[str, list]:
    """Per-cell ``ligand``, ``dose``, ``dose_units`` of a run with ``--ligand`` (else ``{}``).

    The dose is recorded as typed (or the model's default dose in its table unit), so a
    simulation at TNF 10 ng/mL pairs with lab data at TNF 10 ng/mL.
    """
    from models_bio.network import ReactionNetwork

    if args.ligand is None or not isinstance(model, ReactionNetwork) or not model.stimulus:
        return {}
    ligand = next(iter(model.stimulus))
    if args.dose is not None:
        dose, units = float(args.dose), str(args.dose_units)
    else:
        from models_bio.nfkb.guo2024 import DEFAULT_DOSE, DOSE_SCALE

        dose, units = float(DEFAULT_DOSE[ligand]), str(DOSE_SCALE[ligand][0])
    return {"ligand": [ligand] * n_cells, "dose": [dose] * n_cells, "dose_units": [units] * n_cells}
