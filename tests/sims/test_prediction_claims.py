"""Issue 15, part 1: the prediction preset on the standard benchmarks (500 neurons, 10 ms per sample).

Slow (about a minute per task). The preset's run defaults (sims.prediction.PRESET_RUN_DEFAULTS):
readout of the sampled membrane state v and u; no thermal noise; recurrent weights at 0.1x;
gain 40. Measured figures (seeds 0 / 1 / 2): docs/results.rst, "Prediction reservoir".
The timing preset, which has no input delays, forgets: memory capacity 1.9.
The ESN baselines must agree: the in-house ESN and ReservoirPy's, on the same series.
"""

import pytest

from sims.runner import execute

pytestmark = pytest.mark.slow
PRESET = {"reservoir_preset": "prediction"}


@pytest.fixture(scope="module")
def results():
    pytest.importorskip("reservoirpy")
    tasks = ("memory-capacity", "narma10", "mackey-glass")
    return {t: execute("prediction", {**PRESET, "task": t}, seed=0) for t in tasks}


def test_esn_baselines_agree_with_reservoirpy(results):
    mc = results["memory-capacity"]["memory_capacity_by_reservoir"]
    assert mc["esn"] > 12 and abs(mc["esn"] - mc["reservoirpy"]) < 0.25 * mc["reservoirpy"]
    narma = results["narma10"]["nrmse_by_reservoir"]
    assert narma["esn"] < 0.45 and abs(narma["esn"] - narma["reservoirpy"]) < 0.05
    mg = results["mackey-glass"]["nrmse_by_reservoir"]
    assert mg["esn"] < 0.02 and mg["reservoirpy"] < 0.02


def test_spiking_memory_capacity(results):
    assert results["memory-capacity"]["memory_capacity_by_reservoir"]["spiking"] >= 12


def test_spiking_narma10(results):
    assert results["narma10"]["nrmse_by_reservoir"]["spiking"] <= 0.45


def test_spiking_rates_are_plausible(results):
    for r in results.values():
        assert 1.0 <= r["spiking_mean_rate_exc_hz"] <= 30.0


def test_spiking_mackey_glass(results):
    assert results["mackey-glass"]["nrmse_by_reservoir"]["spiking"] <= 0.02
