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
