"""Continual-learning metrics as pure functions of accuracy matrices.

``R`` is the accuracy matrix, ``R[i, j]`` = accuracy on task ``j`` after
training on tasks ``0..i`` (shape ``(T, T)``). With ``b[j]`` the accuracy of
the untrained model on task ``j``:

.. math::

    \\mathrm{ACC} = \\frac1T \\sum_{j} R_{T-1,j},\\qquad
    \\mathrm{BWT} = \\frac{1}{T-1} \\sum_{j<T-1} (R_{T-1,j} - R_{j,j}),\\qquad
    \\mathrm{FWT} = \\frac{1}{T-1} \\sum_{j\\ge 1} (R_{j-1,j} - b_j)

(Lopez-Paz & Ranzato 2017), and the average forgetting (Chaudhry et al. 2018)

.. math::

    F = \\frac{1}{T-1} \\sum_{j<T-1} \\max_{l \\in \\{j..T-2\\}} (R_{l,j} - R_{T-1,j}).

Continual evaluation (De Lange et al. 2023) evaluates every task every few
training iterations: ``A[n, j]`` is the accuracy on task ``j`` at evaluation
``n`` and ``phase[n]`` the task being trained at that moment. For a task
``j`` learned before the last one, its worst accuracy after it was learned is
``min_{n: phase[n] > j} A[n, j]``, and

.. math::

    \\text{min-ACC} = \\frac{1}{T-1} \\sum_{j<T-1} \\min_{n:\\,\\text{phase}_n > j} A_{n,j},
    \\qquad
    \\text{WC-ACC} = \\frac1T R_{T-1,T-1} + \\left(1 - \\frac1T\\right) \\text{min-ACC}.

The **stability gap** (De Lange et al. 2023) is the transient drop of earlier
tasks' accuracy right after a task switch, followed by (partial) recovery.
For the switch to task :math:`t \\ge 1`, starting at iteration :math:`s_t`, let
:math:`a_j = A_{n_t, j}` be the accuracy of an earlier task :math:`j < t` at the
last evaluation :math:`n_t` before the switch and :math:`W_t` the evaluations of
task :math:`t` within the first ``window`` iterations
(:math:`s_t < \\text{iteration}_n \\le s_t + \\text{window}`). Then

.. math::

    d_t = \\max_{j<t} \\Bigl(a_j - \\min_{n \\in W_t} A_{n,j}\\Bigr)^+ ,

the depth of the gap (the largest drop of any earlier task), and, for the task
:math:`j^*` that dropped most, the iterations to recover
:math:`r_t = \\text{iteration}_m - s_t` of the first evaluation :math:`m` of
task :math:`t`, at or after that task's minimum, with
:math:`A_{m,j^*} \\ge a_{j^*} - \\text{tol}` (``nan`` if it never recovers while
task :math:`t` is trained).

Accuracies are fractions in [0, 1] (anything else is a ``ValueError``; NaN
marks tasks not yet seen in ``A``), and all functions return plain floats; a
stream of one task has no BWT/FWT/forgetting/min-ACC and returns ``nan`` for them.

References
----------
D. Lopez-Paz, M. Ranzato. "Gradient Episodic Memory for Continual Learning", NeurIPS 2017.
A. Chaudhry, P. Dokania, T. Ajanthan, P. Torr. "Riemannian Walk for Incremental Learning", ECCV 2018.
M. De Lange, G. van de Ven, T. Tuytelaars. "Continual evaluation for lifelong learning:
identifying the stability gap", ICLR 2023.
"""

from __future__ import annotations

import numpy as np

from plasticity_rules.validation import check_array

__all__ = ["average_accuracy", "backward_transfer", "forward_transfer", "forgetting", "min_acc", "wc_acc",
           "summarize", "stability_gap", "stability_gap_summary"]


def _fractions(name: str, values: np.ndarray) -> np.ndarray:
    """Accuracies must be fractions in [0, 1] (NaN allowed where ``values`` may hold unseen tasks)."""
    bad = (values < 0) | (values > 1)
    if np.any(bad):
        v = float(values[bad].flat[0])
        hint = " (percentages? divide by 100)" if 1 < v <= 100 else ""
        raise ValueError(f"{name} must be fractions in [0, 1], got {v!r}{hint}")
    return values


def _matrix(R) -> np.ndarray:
    R = check_array("accuracy matrix", R, ndim=2)
    if R.shape[0] != R.shape[1]:
        raise ValueError(f"accuracy matrix must be square (T, T), got shape {R.shape}")
    if R.shape[0] == 0:
        raise ValueError("accuracy matrix must hold at least one task, got shape (0, 0)")
    return _fractions("accuracy matrix entries", R)


def average_accuracy(R) -> float:
    """ACC: mean accuracy over all tasks after the last task."""
    R = _matrix(R)
    return float(R[-1].mean())


def backward_transfer(R) -> float:
    """BWT (Lopez-Paz & Ranzato 2017); negative values mean forgetting."""
    R = _matrix(R)
    T = R.shape[0]
    if T < 2:
        return float("nan")
    return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))


def forward_transfer(R, baseline) -> float:
    """FWT (Lopez-Paz & Ranzato 2017) against the untrained-model accuracies ``baseline`` ``(T,)``."""
    R = _matrix(R)
    T = R.shape[0]
    b = _fractions("baseline accuracies", check_array("baseline accuracies", baseline, shape=(T,)))
    if T < 2:
        return float("nan")
    return float(np.mean([R[j - 1, j] - b[j] for j in range(1, T)]))


def forgetting(R) -> float:
    """Average forgetting (Chaudhry et al. 2018): best earlier accuracy minus final accuracy."""
    R = _matrix(R)
    T = R.shape[0]
    if T < 2:
        return float("nan")
    return float(np.mean([np.max(R[j : T - 1, j]) - R[-1, j] for j in range(T - 1)]))


def _curve(A, phase, n_tasks):
    A = check_array("per-iteration accuracies", A, ndim=2, finite=False)
    phase = np.asarray(phase)
    if phase.ndim != 1 or phase.shape[0] != A.shape[0]:
        raise ValueError(f"phase must have one entry per evaluation ({A.shape[0]}), got shape {phase.shape}")
    if A.shape[1] != n_tasks:
        raise ValueError(f"per-iteration accuracies must have {n_tasks} columns, got shape {A.shape}")
    return _fractions("per-iteration accuracies", A), phase


def min_acc(A, phase, n_tasks: int | None = None) -> float:
    """min-ACC (De Lange et al. 2023): mean over earlier tasks of their worst accuracy after learning.

    Parameters
    ----------
    A : ndarray, shape (n_evals, T)
        Accuracy on every task at every evaluation.
    phase : ndarray of int, shape (n_evals,)
        Index of the task being trained at each evaluation (evaluations after the end
        of task ``j``'s training have ``phase > j``; a final evaluation after the last
        task may use ``phase = T``).
    """
    n_tasks = np.asarray(A).shape[1] if n_tasks is None else n_tasks
    A, phase = _curve(A, phase, n_tasks)
    if n_tasks < 2:
        return float("nan")
    mins = []
    for j in range(n_tasks - 1):
        sel = phase > j
        if not np.any(sel):
            raise ValueError(f"no evaluation after task {j} was learned; cannot compute min-ACC")
        vals = A[sel, j]
        if not np.all(np.isfinite(vals)):
            raise ValueError(f"per-iteration accuracies of task {j} after it was learned contain NaN")
        mins.append(np.min(vals))
    return float(np.mean(mins))


def wc_acc(R, A, phase) -> float:
    """Worst-case accuracy WC-ACC (De Lange et al. 2023) after the last task."""
    R = _matrix(R)
    T = R.shape[0]
    if T < 2:
        return float(R[-1, -1])
    return float(R[-1, -1] / T + (1.0 - 1.0 / T) * min_acc(A, phase, T))


def summarize(R, A=None, phase=None, baseline=None) -> dict:
    """All metrics as a dict of floats (``fwt`` needs ``baseline``, stability metrics need ``A``)."""
    out = {
        "acc": average_accuracy(R),
        "bwt": backward_transfer(R),
        "forgetting": forgetting(R),
        "fwt": forward_transfer(R, baseline) if baseline is not None else float("nan"),
    }
    if A is not None:
        out["min_acc"] = min_acc(A, phase, np.asarray(R).shape[0])
        out["wc_acc"] = wc_acc(R, A, phase)
    return out


def stability_gap(A, phase, iteration, window: int, tol: float = 0.02) -> dict:
    """Depth and recovery time of the stability gap at every task switch (De Lange et al. 2023).

    Parameters
    ----------
    A : ndarray, shape (n_evals, T)
        Accuracy on every task at every evaluation (NaN for tasks not yet seen).
    phase : ndarray of int, shape (n_evals,)
        Task being trained at each evaluation; the last evaluation of phase ``t - 1``
        is the reference before the switch to task ``t``.
    iteration : ndarray of int, shape (n_evals,)
        Training iterations done at each evaluation (non-decreasing).
    window : int
        The gap is looked for within the first ``window`` iterations of every task.
    tol : float
        Recovered means back within ``tol`` of the accuracy before the switch.

    Returns
    -------
    dict
        ``depth`` ``(T - 1,)``: :math:`d_t` for the switches to tasks ``1 .. T-1``;
        ``iterations`` ``(T - 1,)``: :math:`r_t` (NaN: not recovered);
        ``task`` ``(T - 1,)``: :math:`j^*`, the earlier task that dropped most
        (-1 when no evaluation falls in the window).
    """
    A = check_array("per-iteration accuracies", A, ndim=2, finite=False)
    T = A.shape[1]
    A, phase = _curve(A, phase, T)
    iteration = np.asarray(iteration)
    if iteration.shape != phase.shape:
        raise ValueError(
            f"iteration must have one entry per evaluation ({phase.shape[0]}), got shape {iteration.shape}"
        )
    if np.any(np.diff(iteration) < 0) or np.any(np.diff(phase) < 0):
        raise ValueError("iteration and phase must be non-decreasing over the evaluations")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1 (iterations), got {window!r}")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    depth = np.zeros(max(T - 1, 0))
    rec = np.full(max(T - 1, 0), np.nan)
    worst = np.full(max(T - 1, 0), -1, dtype=np.int64)
    for t in range(1, T):
        before = np.flatnonzero(phase == t - 1)
        during = np.flatnonzero(phase == t)
        if before.size == 0 or during.size == 0:
            raise ValueError(f"no evaluation before or during task {t}; cannot compute its stability gap")
        ref_n = before[-1]
        start = iteration[ref_n]
        ref = A[ref_n, :t]
        if not np.all(np.isfinite(ref)):
            raise ValueError(f"accuracies of tasks 0..{t - 1} before task {t} contain NaN")
        win = during[(iteration[during] > start) & (iteration[during] <= start + window)]
        if win.size == 0:
            continue
        drops = ref - np.min(A[win, :t], axis=0)
        j = int(np.argmax(drops))
        worst[t - 1] = j
        depth[t - 1] = max(float(drops[j]), 0.0)
        n_min = win[int(np.argmin(A[win, j]))]
        after = during[during >= n_min]
        ok = after[A[after, j] >= ref[j] - tol]
        if ok.size:
            rec[t - 1] = float(iteration[ok[0]] - start)
    return {"depth": depth, "iterations": rec, "task": worst}


def stability_gap_summary(A, phase, iteration, window: int, tol: float = 0.02) -> dict:
    """Stream-level figures of :func:`stability_gap` under the keys a run summary uses.

    ``stability_gap_depth``: mean depth over the task switches; ``stability_gap_max_depth``;
    ``stability_gap_iterations``: mean iterations to recover over the switches that
    recovered (None if none did); ``stability_gap_recovered``: fraction of switches
    that recovered; ``stability_gap_depth_per_switch`` and
    ``stability_gap_iterations_per_switch`` (None: not recovered). A one-task stream
    has no switch: depth 0 and no recovery figures.
    """
    g = stability_gap(A, phase, iteration, window, tol)
    d, r = g["depth"], g["iterations"]
    done = np.isfinite(r)
    return {
        "stability_gap_depth": float(d.mean()) if d.size else 0.0,
        "stability_gap_max_depth": float(d.max()) if d.size else 0.0,
        "stability_gap_iterations": float(r[done].mean()) if done.any() else None,
        "stability_gap_recovered": float(done.mean()) if d.size else None,
        "stability_gap_depth_per_switch": [float(x) for x in d],
        "stability_gap_iterations_per_switch": [float(x) if np.isfinite(x) else None for x in r],
    }
