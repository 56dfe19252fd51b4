"""The closing claims of issue 16, each a ``slow`` test at the documented size (docs/results.rst,
"Continual learning on liquid and reservoir states"; about 1 h on two free cores, most of it the
liquid states, which the feature store then keeps). A claim that does not hold is an ``xfail``
naming the measured numbers."""

import numpy as np
import pytest

from sims.runner import execute

pytestmark = pytest.mark.slow

#: The protocol of the results table (``neuroplast run continual`` options).
PROTOCOL = dict(stream="permuted-fashion", n_tasks=5, max_train=1000, max_test=500, readout="softmax",
                liquid_grid="10x10x10", liquid_duration="100ms", n_init=500, epochs=20, readout_lr=2.0,
                subspace_first=200, subspace_per_task=100, hlop_lr_states=1.0, hlop_decay=0.05,
                hlop_sweeps=10, ewc_lambda=30.0)
SEEDS = (0, 1, 2)


def _mean(runs, method, key):
    return float(np.mean([runs[method, s][key] for s in SEEDS]))


@pytest.fixture(scope="module")
def nalsm_runs():
    from tasks.continual import make_stream

    try:  # Fashion-MNIST from the Debian package or the user's files (see --data-path)
        make_stream("permuted-fashion", 1, seed=0, max_train=10, max_test=10)
    except (OSError, ValueError) as exc:
        pytest.skip(f"Fashion-MNIST not available: {exc}")
    return {(m, s): execute("continual", {**PROTOCOL, "features": "nalsm", "method": m}, seed=s, out=None)
            for m in ("finetune", "exact", "hlop") for s in SEEDS}


def test_finetuning_forgets_at_least_10_points(nalsm_runs):
    assert _mean(nalsm_runs, "finetune", "bwt") <= -0.10


def test_hlop_bwt_is_better_than_minus_2_points_on_every_seed(nalsm_runs):
    # measured: -0.2 / -0.85 / +0.05 points (seeds 0 / 1 / 2) with the decaying Hebbian rate and sweeps;
    # -1.7 / -2.2 / -2.05 with the former constant rate 0.1 and no sweeps
    assert all(nalsm_runs["hlop", s]["bwt"] > -0.02 for s in SEEDS)


def test_hlop_acc_is_within_2_points_of_exact_projection(nalsm_runs):
    assert abs(_mean(nalsm_runs, "hlop", "acc") - _mean(nalsm_runs, "exact", "acc")) <= 0.02


def test_hlop_stability_gap_is_at_most_a_third_of_finetunings(nalsm_runs):
    gap = "stability_gap_depth"
    assert _mean(nalsm_runs, "hlop", gap) <= _mean(nalsm_runs, "finetune", gap) / 3


DIGITS = dict(stream="permuted-digits", n_tasks=5, image_size=8, features="nalsm", readout="softmax",
              liquid_grid="8x8x8", liquid_duration="100ms", n_init=200, epochs=5)


@pytest.mark.xfail(reason="measured (seed 0): HLOP BWT -3.8 points at Oja rate 0.1 (-11.8 at the former "
                   "0.01), exact projection -1.7, fine-tuning -42.7", strict=False)
def test_hlop_bwt_on_permuted_digits_is_better_than_minus_2_points():
    runs = {(m, s): execute("continual", {**DIGITS, "method": m}, seed=s, out=None)
            for m in ("finetune", "hlop") for s in SEEDS}
    assert np.mean([runs["finetune", s]["bwt"] for s in SEEDS]) <= -0.10
    assert np.mean([runs["hlop", s]["bwt"] for s in SEEDS]) > -0.02
