"""Issue 15, part 1: the timing preset on the standard benchmarks (500 neurons, 10 ms per sample).

Slow (about a minute per task). The spiking targets did not hold when measured; they are
``xfail`` with the measured figures (docs/results.rst, "Timing reservoir"). The ESN
baselines must agree: the in-house ESN and ReservoirPy's, on the same series.
"""

import pytest

from sims.runner import execute

pytestmark = pytest.mark.slow
PRESET = {"reservoir_preset": "timing", "noise": 6.0}


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


@pytest.mark.xfail(
    reason="measured: spiking memory capacity 1.91 (1.4-2.0 over the probed settings)", strict=False
)
def test_spiking_memory_capacity(results):
    assert results["memory-capacity"]["memory_capacity_by_reservoir"]["spiking"] >= 12


@pytest.mark.xfail(reason="measured: spiking NARMA10 NRMSE 0.683", strict=False)
def test_spiking_narma10(results):
    assert results["narma10"]["nrmse_by_reservoir"]["spiking"] <= 0.45


@pytest.mark.xfail(reason="measured: spiking Mackey-Glass one-step NRMSE 0.103", strict=False)
def test_spiking_mackey_glass(results):
    assert results["mackey-glass"]["nrmse_by_reservoir"]["spiking"] <= 0.02
