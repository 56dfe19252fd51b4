"""Continual-learning metrics on hand-computed accuracy matrices and curves."""

import numpy as np
import pytest

from tasks import cl_metrics as m

R = np.array(
    [
        [0.9, 0.1, 0.2],
        [0.7, 0.8, 0.3],
        [0.6, 0.85, 0.95],
    ]
)


def test_acc_bwt_fwt_forgetting_by_hand():
    assert m.average_accuracy(R) == pytest.approx((0.6 + 0.85 + 0.95) / 3)
    # BWT: ((0.6 - 0.9) + (0.85 - 0.8)) / 2
    assert m.backward_transfer(R) == pytest.approx((-0.3 + 0.05) / 2)
    # FWT: ((R[0,1] - b1) + (R[1,2] - b2)) / 2 with b = (0.1, 0.1, 0.1)
    assert m.forward_transfer(R, [0.1, 0.1, 0.1]) == pytest.approx(((0.1 - 0.1) + (0.3 - 0.1)) / 2)
    # forgetting: task 0 max(0.9, 0.7) - 0.6 = 0.3; task 1 max(0.8) - 0.85 = -0.05
    assert m.forgetting(R) == pytest.approx((0.3 - 0.05) / 2)


def test_forgetting_uses_the_best_earlier_accuracy_not_the_first():
    R2 = np.array([[0.5, 0.0], [0.3, 0.9]])
    R3 = np.array([[0.5, 0.0, 0.0], [0.8, 0.9, 0.0], [0.4, 0.9, 0.9]])
    assert m.forgetting(R2) == pytest.approx(0.2)
    assert m.forgetting(R3) == pytest.approx(((0.8 - 0.4) + 0.0) / 2)
    assert m.backward_transfer(R3) == pytest.approx(((0.4 - 0.5) + 0.0) / 2)


def test_no_forgetting_gives_zero_bwt():
    Rp = np.tril(np.full((4, 4), 0.9)) + np.triu(np.full((4, 4), 0.1), 1)
    assert m.backward_transfer(Rp) == pytest.approx(0.0)
    assert m.forgetting(Rp) == pytest.approx(0.0)


def test_min_acc_and_wc_acc_by_hand():
    # 3 tasks; evaluations with the phase (task being trained) of each
    A = np.array(
        [
            [0.5, np.nan, np.nan],  # during task 0 (not counted)
            [0.9, np.nan, np.nan],  # end of task 0
            [0.4, 0.6, np.nan],  # during task 1: stability gap of task 0
            [0.8, 0.9, np.nan],
            [0.7, 0.5, 0.7],  # during task 2: dips of tasks 0 and 1
            [0.85, 0.8, 0.95],
            [0.85, 0.8, 0.95],  # final evaluation (phase = T)
        ]
    )
    phase = np.array([0, 0, 1, 1, 2, 2, 3])
    # task 0: min over phase > 0 = 0.4; task 1: min over phase > 1 = 0.5
    assert m.min_acc(A, phase) == pytest.approx((0.4 + 0.5) / 2)
    Rf = np.array([[0.9, 0, 0], [0.8, 0.9, 0], [0.85, 0.8, 0.95]])
    assert m.wc_acc(Rf, A, phase) == pytest.approx(0.95 / 3 + (2 / 3) * 0.45)
    s = m.summarize(Rf, A, phase, baseline=[0.1, 0.1, 0.1])
    assert set(s) == {"acc", "bwt", "forgetting", "fwt", "min_acc", "wc_acc"}
    assert s["min_acc"] == pytest.approx(0.45)


def test_single_task_has_no_transfer_metrics():
    R1 = np.array([[0.8]])
    assert m.average_accuracy(R1) == 0.8
    assert np.isnan(m.backward_transfer(R1)) and np.isnan(m.forgetting(R1))
    assert np.isnan(m.forward_transfer(R1, [0.1]))
    assert m.wc_acc(R1, np.array([[0.8]]), np.array([1])) == 0.8


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        m.average_accuracy(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        m.backward_transfer(np.array([[np.nan, 0], [0, 1]]))
    with pytest.raises(ValueError, match="shape"):
        m.forward_transfer(R, [0.1, 0.1])
    with pytest.raises(ValueError, match="phase"):
        m.min_acc(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="no evaluation after task 0"):
        m.min_acc(np.zeros((2, 2)), np.array([0, 0]))
    with pytest.raises(ValueError, match="contain NaN"):
        m.min_acc(np.array([[np.nan, 0.5]]), np.array([1]))


@pytest.mark.parametrize("bad", [2.5, -0.1, 80.0])
def test_accuracies_outside_0_1_are_refused(bad):
    R = np.array([[0.9, 0.1], [0.8, bad]])
    with pytest.raises(ValueError, match="fractions in \\[0, 1\\]"):
        m.average_accuracy(R)
    with pytest.raises(ValueError, match="baseline accuracies must be fractions"):
        m.forward_transfer(np.eye(2), [0.1, bad])
    A = np.array([[0.5, np.nan], [0.5, bad]])
    with pytest.raises(ValueError, match="per-iteration accuracies must be fractions"):
        m.min_acc(A, [0, 1])


# ----------------------------------------------------------------------------- stability gap

# 3 tasks, evaluation every 2 iterations, 6 iterations per task
GAP_A = np.array(
    [
        [0.50, np.nan, np.nan],  # it 2, task 0
        [0.80, np.nan, np.nan],  # it 4
        [0.90, np.nan, np.nan],  # it 6: end of task 0 (reference for switch 1)
        [0.60, 0.40, np.nan],  # it 8: task 0 drops by 0.30
        [0.70, 0.70, np.nan],  # it 10
        [0.89, 0.80, np.nan],  # it 12: within tol 0.02 of 0.90 -> recovered after 6 iterations
        [0.80, 0.50, 0.30],  # it 14: task 0 drops 0.09, task 1 drops 0.30 -> j* = 1
        [0.85, 0.45, 0.60],  # it 16: task 1 at its minimum 0.45 (drop 0.35)
        [0.85, 0.70, 0.90],  # it 18: task 1 still 0.10 below 0.80: not recovered
        [0.85, 0.70, 0.90],  # final evaluation
    ]
)
GAP_PHASE = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3])
GAP_IT = np.array([2, 4, 6, 8, 10, 12, 14, 16, 18, 18])


def test_stability_gap_by_hand():
    g = m.stability_gap(GAP_A, GAP_PHASE, GAP_IT, window=4)
    # switch 1: window = iterations 7..10; task 0 min 0.60 -> depth 0.30; recovers at it 12 (0.89 >= 0.88)
    # switch 2: window = iterations 13..16; drops task 0: 0.89 - 0.80 = 0.09, task 1: 0.80 - 0.45 = 0.35
    np.testing.assert_allclose(g["depth"], [0.30, 0.35])
    np.testing.assert_array_equal(g["task"], [0, 1])
    assert g["iterations"][0] == 6 and np.isnan(g["iterations"][1])
    s = m.stability_gap_summary(GAP_A, GAP_PHASE, GAP_IT, window=4)
    assert s["stability_gap_depth"] == pytest.approx(0.325)
    assert s["stability_gap_max_depth"] == pytest.approx(0.35)
    assert s["stability_gap_iterations"] == 6 and s["stability_gap_recovered"] == 0.5
    assert s["stability_gap_iterations_per_switch"] == [6.0, None]


def test_stability_gap_window_and_tolerance():
    # a window of 2 iterations only sees the first evaluation of each task (it 8 and it 14)
    g = m.stability_gap(GAP_A, GAP_PHASE, GAP_IT, window=2)
    np.testing.assert_allclose(g["depth"], [0.30, 0.30])
    # with no tolerance, task 0 never returns to 0.90 during task 1
    g0 = m.stability_gap(GAP_A, GAP_PHASE, GAP_IT, window=4, tol=0.0)
    assert np.isnan(g0["iterations"][0])
    # a gain is no gap: depth is clipped at 0 and recovery is immediate
    A = np.array([[0.5, np.nan], [0.6, 0.2], [0.7, 0.9], [0.7, 0.9]])
    g1 = m.stability_gap(A, [0, 1, 1, 2], [5, 10, 15, 15], window=10)
    assert g1["depth"][0] == 0.0 and g1["iterations"][0] == 5


def test_stability_gap_bad_input():
    with pytest.raises(ValueError, match="window"):
        m.stability_gap(GAP_A, GAP_PHASE, GAP_IT, window=0)
    with pytest.raises(ValueError, match="iteration"):
        m.stability_gap(GAP_A, GAP_PHASE, GAP_IT[:-1], window=4)
    with pytest.raises(ValueError, match="non-decreasing"):
        m.stability_gap(GAP_A, GAP_PHASE, GAP_IT[::-1], window=4)
    with pytest.raises(ValueError, match="before or during task 2"):
        m.stability_gap(GAP_A[:6], GAP_PHASE[:6], GAP_IT[:6], window=4)
