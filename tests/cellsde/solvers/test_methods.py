"""The METHODS table: every name written once, defaults by kind, loadable solvers."""

from __future__ import annotations

import inspect

import pytest

from cellsde.errors import CellsdeError
from cellsde.solvers import METHODS, choose_method
from cellsde.solvers.methods import KINDS


def test_table_is_read_only_and_ordered():
    assert tuple(METHODS) == ("ode", "ssa", "tau", "cle", "sde", "lattice-ssa")
    with pytest.raises(TypeError):
        METHODS["rk4"] = METHODS["ode"]  # type: ignore[index]


@pytest.mark.parametrize("name", list(METHODS))
def test_each_solver_takes_what_the_table_says(name):
    method = METHODS[name]
    assert method.kind in KINDS and method.name == name
    signature = inspect.signature(method.load()).parameters
    for arg in ("seed", "dt", "device"):
        assert (arg in signature) == (arg in method.takes), (name, arg)
    assert "times" in signature and "progress" in signature


def test_one_default_per_kind_and_aliases():
    for kind in KINDS:
        assert sum(m.default for m in METHODS.values() if m.kind == kind) == 1
    assert choose_method("network", None, model_label="X").name == "ode"
    assert choose_method("sde", None, model_label="X").name == "sde"
    assert choose_method("lattice", "ssa", model_label="X").name == "lattice-ssa"
    assert choose_method("network", "ssa", model_label="X").name == "ssa"


def test_unknown_or_misapplied_method_names_the_choices():
    with pytest.raises(CellsdeError, match="unknown method 'rk4'; choose one of ode, ssa"):
        choose_method("network", "rk4", model_label="ReactionNetwork")
    with pytest.raises(CellsdeError, match="'tau' does not apply to a SDEModel; use one of sde"):
        choose_method("sde", "tau", model_label="SDEModel")


def test_datasets_accept_every_method_name():
    from cellsde.datasets import schema

    assert set(METHODS) <= set(schema.METHODS)
