"""Configuration of END-nSDE fitting, and the paper's settings per system as presets."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Any

REDUCTIONS = ("sum", "mean")
LR_SCHEDULES = ("constant", "cosine")


def learning_rate(epoch: int, *, lr: float, lr_min: float, epochs: int, schedule: str) -> float:
    """Learning rate of ``epoch`` (0-based): every trainer's schedule (fit, cascade, calibrate).

    ``"constant"``: ``lr``. ``"cosine"``: ``lr_min + (lr - lr_min) (1 + cos(pi e / epochs)) / 2``,
    from ``lr`` at the first epoch down to ``lr_min`` at the last; a function of the epoch
    only, so a resumed run continues exactly.
    """
    if schedule == "constant":
        return lr
    if schedule != "cosine":
        raise ValueError(f"schedule must be one of {LR_SCHEDULES}, got {schedule!r}")
    frac = min(epoch, epochs) / epochs
    return lr_min + (lr - lr_min) * 0.5 * (1.0 + math.cos(math.pi * frac))


@dataclass(frozen=True)
class FitConfig:
    """Options of :func:`cellsde.fit` (and of every candidate of :func:`cellsde.compress`).

    Parameters
    ----------
    epochs : int
        Full-batch optimisation steps (the paper: one step per epoch).
    lr, weight_decay : float
        Adam learning rate and (L2) weight decay.
    lr_schedule : {"constant", "cosine"}
        ``"cosine"``: the learning rate of epoch ``e`` is
        ``lr_min + (lr - lr_min) (1 + cos(pi e / epochs)) / 2`` (from ``lr`` at the first epoch
        down to ``lr_min`` at the last), which settles the weights instead of leaving them
        jittering in the noise of the sampled loss. A function of the epoch only, so a resumed
        fit with the same ``epochs`` continues exactly. The compress cascade applies it
        to the network's optimiser in every epoch, dendrite phases counted.
    lr_min : float
        Final learning rate of the cosine schedule.
    betas : (float, float)
        Adam betas.
    grad_clip : float or None
        Clip the global gradient norm to this value.
    dt : float
        Euler–Maruyama step in the data's time units.
    n_paths : int or None
        Simulated paths per group; default = the largest number of cells in a group.
    observed : tuple of str or None
        Species compared by the loss; default all of the model's species present in the data.
    reduce_groups : {"sum", "mean"}
        Aggregate the per-group tW2 (paper: sum for circadian/NF-kB, mean for RPA).
    skip_first : bool
        Leave the initial time out of the loss (every path starts from data there).
    debiased : bool
        Train on the debiased loss ``(W2²(a, obs) + W2²(b, obs)) / 2 - W2²(a, b) / 2`` with two
        independent simulated clouds ``a``, ``b`` per group and time (see
        :func:`cellsde.losses.w2_table`). The plain W2² between finite clouds is
        smallest for simulated clouds narrower than the data (about 18 % in variance for
        2-D clouds of 50 cells), which shrinks the learned noise; the debiased loss is not.
        Twice the simulation per epoch; the recorded ``train_loss`` is the debiased value
        (it can be negative). Validation stays plain tW2. Default False (the paper's loss).
    standardize : bool
        Set the model's input standardisation from the training data before fitting
        (recommended; the presets switch it off to match the paper exactly).
    checkpoint_segments : bool
        Recompute rollout segments in the backward pass (less memory, ~30 % more time).
    seed : int
        Seeds the Brownian increments (training and validation use separate streams).
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    valid_every : int
        Epochs between validations (when validation data are given).
    patience : int or None
        Stop after this many validations without improvement (None: never stop early).
    restore_best : bool
        With validation data, return the weights of the best validation epoch.
    checkpoint_path : str or None
        Where to write the resumable training state.
    checkpoint_every : int
        Epochs between checkpoints (one is always written at the end).
    resume : bool
        Continue from ``checkpoint_path`` if it exists (exactly: same RNG state and history).
    progress : bool or None
        Show a progress bar (None: only on a terminal).
    """

    epochs: int = 500
    lr: float = 2e-3
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    lr_min: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float | None = None
    dt: float = 1e-3
    n_paths: int | None = None
    observed: tuple[str, ...] | None = None
    reduce_groups: str = "sum"
    skip_first: bool = True
    debiased: bool = False
    standardize: bool = True
    checkpoint_segments: bool = False
    seed: int = 0
    device: str = "cpu"
    valid_every: int = 1
    patience: int | None = None
    restore_best: bool = True
    checkpoint_path: str | None = None
    checkpoint_every: int = 50
    resume: bool = False
    progress: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.observed is not None:
            object.__setattr__(self, "observed", tuple(self.observed))
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (
                self.lr_schedule in LR_SCHEDULES,
                f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}",
            ),
            (0 <= self.lr_min <= self.lr, f"lr_min must be in [0, lr], got {self.lr_min}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (
                self.grad_clip is None or self.grad_clip > 0,
                f"grad_clip must be > 0, got {self.grad_clip}",
            ),
            (self.dt > 0, f"dt must be > 0, got {self.dt}"),
            (
                self.n_paths is None or self.n_paths >= 2,
                f"n_paths must be >= 2, got {self.n_paths}",
            ),
            (self.reduce_groups in REDUCTIONS, f"reduce_groups must be one of {REDUCTIONS}"),
            (self.valid_every >= 1, "valid_every must be >= 1"),
            (self.patience is None or self.patience >= 1, "patience must be >= 1 or None"),
            (self.checkpoint_every >= 1, "checkpoint_every must be >= 1"),
            (not self.resume or self.checkpoint_path, "resume=True needs checkpoint_path"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_json(self) -> str:
        """JSON form, stored in checkpoints and dataset attrs."""
        return json.dumps(asdict(self), sort_keys=True)

    def lr_at(self, epoch: int) -> float:
        """Learning rate of ``epoch`` (0-based) under ``lr_schedule``."""
        return learning_rate(
            epoch, lr=self.lr, lr_min=self.lr_min, epochs=self.epochs, schedule=self.lr_schedule
        )

    def replace(self, **changes: Any) -> FitConfig:
        """A copy with ``changes``."""
        return replace(self, **changes)


# The authors' settings (reference/end-nsde.md section 3), model architecture + FitConfig.
PRESETS: MappingProxyType[str, dict[str, Any]] = MappingProxyType({
    "damped_oscillator": {
        "model": {"hidden": (100, 100, 100), "activation": "elu", "noise": "general", "n_brownian": 2},
        "fit": {
            "epochs": 500, "lr": 2e-3, "weight_decay": 5e-3, "dt": 1e-3, "n_paths": 50,
            "reduce_groups": "sum", "standardize": False, "checkpoint_segments": True,
        },
    },
    "rpa": {
        "model": {"hidden": (100, 100), "activation": "relu", "noise": "general", "n_brownian": 1},
        "fit": {
            "epochs": 2001, "lr": 2e-3, "weight_decay": 5e-3, "grad_clip": 1.0, "dt": 1e-3,
            "n_paths": 50, "reduce_groups": "mean", "checkpoint_every": 50, "standardize": False,
            "checkpoint_segments": True,
        },
    },
    "nfkb": {
        "model": {
            "hidden": (200, 200), "activation": "relu", "noise": "general", "n_brownian": 2,
            "noisy_species": ("IkBat", "NFkB", "NFkBn"),
        },
        "fit": {
            "epochs": 2001, "lr": 2e-3, "grad_clip": 1.0, "dt": 1e-3, "n_paths": 50,
            "reduce_groups": "sum", "observed": ("IkBaNFkBn", "NFkBn"), "checkpoint_every": 50,
            "checkpoint_segments": True, "standardize": False,
        },
    },
})  # fmt: skip


def preset(name: str, **overrides: Any) -> FitConfig:
    """The :class:`FitConfig` of preset ``name`` with ``overrides``."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; presets: {', '.join(sorted(PRESETS))}")
    return FitConfig(**{**copy.deepcopy(PRESETS[name]["fit"]), **overrides})


def preset_model_options(name: str) -> dict[str, Any]:
    """Architecture options (for :class:`cellsde.nn.endnsde.ENDnSDEConfig`) of preset ``name``."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; presets: {', '.join(sorted(PRESETS))}")
    return copy.deepcopy(PRESETS[name]["model"])
