"""PhaseSchedule truth tables: score streams in, actions (and state) out."""

import math

import pytest

from perforate import Action, DendriteConfig, Phase, PhaseSchedule

C, R, ADD, NEURON, RETRY, STOP = (
    Action.CONTINUE,
    Action.REDUCE_LR,
    Action.ADD_DENDRITES,
    Action.START_NEURON_PHASE,
    Action.RESTORE_BEST_AND_RETRY,
    Action.STOP,
)

# (name, schedule kwargs, scores, expected actions, expected n_sets after each action)
TABLE = [
    (
        "gd grows on plateaus until max_dendrites",
        {"max_dendrites": 2},
        [1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7],
        [C, C, C, ADD, C, C, ADD, C, C, STOP],
        [0, 0, 0, 1, 1, 1, 2, 2, 2, 2],
    ),
    (
        "a set that does not beat the old best: restore and retry once, then stop",
        {"max_dendrites": 3, "max_tries": 1},
        [1.0, 0.9, 0.9, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95],
        [C, C, C, ADD, C, C, RETRY, C, C, STOP],
        [0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
    ),
    (
        "a successful retry resets the try counter; a retry restores best_n_sets",
        {"max_dendrites": 3, "max_tries": 1},
        [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 0.6, 0.6, 0.6],
        [C, C, ADD, C, C, RETRY, C, C, ADD, C, C, RETRY],
        [0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2],
    ),
    (
        "max_tries=0 stops at the first useless set",
        {"max_tries": 0},
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [C, C, ADD, C, C, STOP],
        [0, 0, 1, 1, 1, 1],
    ),
    (
        "max_dendrites=0 stops at the first plateau",
        {"max_dendrites": 0},
        [3.0, 2.0, 2.0, 2.0],
        [C, C, C, STOP],
        [0, 0, 0, 0],
    ),
    (
        "relative threshold: small gains count as a stall",
        {"threshold": 0.1},
        [1.0, 0.95, 0.92],
        [C, C, ADD],
        [0, 0, 1],
    ),
    (
        "cascade: add -> dendrite phase until the candidate score plateaus -> neuron phase",
        {"mode": "cascade", "max_dendrites": 1, "candidate_patience": 2},
        [1.0, 1.0, 1.0, -1.0, -2.0, -2.0, -2.0, 0.9, 0.9, 0.9],
        [C, C, ADD, C, C, C, NEURON, C, C, STOP],
        [0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
    ),
    (
        "cascade: candidate_epochs caps a dendrite phase",
        {"mode": "cascade", "candidate_epochs": 3, "candidate_patience": 5},
        [1.0, 1.0, 1.0, -1.0, -2.0, -3.0],
        [C, C, ADD, C, C, NEURON],
        [0, 0, 1, 1, 1, 1],
    ),
    (
        "pb: a plateau first drops the learning rate; the switch comes after lr_drops drops",
        {"kind": "pb", "lr_drops": 1, "max_dendrites": 1},
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5],
        [C, C, R, C, ADD, C, C, R, C, STOP],
        [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    ),
    (
        "pb with two drops per phase, and max_dendrites=0 (a plain ReduceLROnPlateau run)",
        {"kind": "pb", "lr_drops": 2, "max_dendrites": 0},
        [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0],
        [C, C, C, R, C, R, C, STOP],
        [0] * 8,
    ),
    (
        "plateau ignores lr_drops",
        {"kind": "plateau", "lr_drops": 3, "max_dendrites": 0},
        [3.0, 2.0, 2.0, 2.0],
        [C, C, C, STOP],
        [0, 0, 0, 0],
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "scores", "actions", "sets"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_truth_table(kwargs, scores, actions, sets):
    sch = PhaseSchedule(**{"patience": 2, "threshold": 0.0, **kwargs})
    got = []
    for s in scores:
        got.append((sch.observe(s), sch.n_sets))
    assert got == list(zip(actions, sets))


def test_phase_best_and_flags():
    sch = PhaseSchedule(mode="cascade", patience=1, threshold=0.0, candidate_patience=1)
    assert sch.phase is Phase.NEURON and math.isinf(sch.best_score)
    assert sch.observe(2.0) is C and sch.is_best and sch.best_score == 2.0
    assert sch.observe(2.5) is ADD and not sch.is_best
    assert sch.phase is Phase.DENDRITE and sch.best_n_sets == 0
    assert sch.observe(-10.0) is C and not sch.is_best and sch.best_score == 2.0
    assert sch.observe(-9.0) is NEURON and sch.phase is Phase.NEURON
    assert sch.observe(1.0) is C and sch.is_best and sch.best_n_sets == 1


def test_pb_cap_is_recorded_and_settings_name_the_schedule():
    sch = PhaseSchedule(mode="cascade", kind="pb", patience=2, threshold=0.0, lr_drops=0,
                        max_dendrites=2, candidate_epochs=2, candidate_patience=1)  # fmt: skip
    got = [sch.observe(s) for s in [1.0, 1.0, 1.0, -1.0, -2.0, 0.9, 0.9, 0.9, -1.0]]
    assert got == [C, C, ADD, C, NEURON, C, C, ADD, C]
    assert sch.capped == [True]  # first phase: cap hit with the score still rising
    assert sch.observe(-1.0) is NEURON and sch.capped == [True, False]  # second: plateau
    assert sch.restore_at_switch and not PhaseSchedule().restore_at_switch
    assert sch.settings()["kind"] == "pb" and sch.settings()["candidate_epochs"] == 2
    cfg = DendriteConfig(mode="cascade")
    assert cfg.schedule is None and cfg.schedule_name == "pb"
    assert DendriteConfig().schedule_name == "plateau"
    assert PhaseSchedule.from_config(cfg).kind == "pb"
    with pytest.raises(ValueError, match="kind"):
        PhaseSchedule(kind="reduce")
    with pytest.raises(ValueError, match="schedule"):
        DendriteConfig(schedule="reduce")
    with pytest.raises(ValueError, match="lr_factor"):
        DendriteConfig(lr_factor=1.0)
    with pytest.raises(TypeError, match="detach_input"):
        DendriteConfig(detach_input=0)
    with pytest.raises(ValueError, match="candidate_steps"):
        DendriteConfig(candidate_steps=0)


def test_from_config_and_errors():
    cfg = DendriteConfig(mode="cascade", patience=7, max_dendrites=4, candidate_epochs=9)
    sch = PhaseSchedule.from_config(cfg, n_sets=2)
    assert (sch.mode, sch.patience, sch.max_dendrites, sch.candidate_epochs, sch.n_sets) == (
        "cascade",
        7,
        4,
        9,
        2,
    )
    with pytest.raises(ValueError, match="NaN"):
        sch.observe(float("nan"))
    with pytest.raises(ValueError, match="mode"):
        PhaseSchedule(mode="x")
    with pytest.raises(ValueError, match="patience"):
        PhaseSchedule(patience=0)
    done = PhaseSchedule(patience=1, max_dendrites=0)
    done.observe(1.0)
    assert done.observe(1.0) is STOP
    with pytest.raises(RuntimeError, match="STOP"):
        done.observe(1.0)
