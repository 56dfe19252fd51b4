"""HLOP kernels (vs NumPy references), subspace learning, guards; exact projection; EWC; delta readout."""

import warnings

import numpy as np
import pytest

from plasticity_rules.delta import HLOPDeltaReadout, delta_rule_update, delta_rule_update_reference
from plasticity_rules.ewc import (
    EWCPenalty,
    ewc_penalty_grad_reference,
    outer_fisher_diagonal,
    outer_fisher_diagonal_reference,
)
from plasticity_rules.hlop import (
    HLOPConfig,
    HLOPLayer,
    SubspaceSaturationWarning,
    hlop_project,
    hlop_project_reference,
    oja_subspace_update,
    oja_subspace_update_reference,
    quantise_lateral,
    quantise_lateral_reference,
)
from plasticity_rules.projection import ExactSubspaceProjector, project_out, svd_basis_update


def _lowrank(rng, n, dim, k, noise=0.01, scales=None):
    """Samples in a random k-dimensional subspace (known basis) plus small isotropic noise."""
    Q, _ = np.linalg.qr(rng.standard_normal((dim, k)))
    scales = np.linspace(2.0, 1.0, k) if scales is None else scales
    X = (rng.standard_normal((n, k)) * scales) @ Q.T + noise * rng.standard_normal((n, dim))
    return X, Q


def _max_principal_angle_sin(A, B):
    """sin of the largest principal angle between column spans of A and B."""
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    s = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    return float(np.sqrt(max(0.0, 1.0 - s.min() ** 2)))


# ----------------------------------------------------------------------------- kernels vs references


def test_quantise_matches_reference_and_edges():
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0, 15, (20, 7)), np.array([[20.0, -20.0, 25.0, -1e9, 0.0, 0.01, 0.02]])])
    q = quantise_lateral(y, 20.0, 1000.0)
    np.testing.assert_allclose(q, quantise_lateral_reference(y, 20.0, 1000.0), rtol=0, atol=1e-12)
    assert q.max() <= 20.0 and q.min() >= -20.0
    # resolution is scale / timesteps
    np.testing.assert_allclose(np.round(q / 0.02), q / 0.02, atol=1e-9)
    assert quantise_lateral(np.array([[0.009]]), 20.0, 1000.0)[0, 0] == 0.0


@pytest.mark.parametrize("spiking", [False, True])
@pytest.mark.parametrize("m", [0, 1, 6])
def test_project_matches_reference(spiking, m):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(9, 13))
    H = rng.normal(size=(m, 13)) * 0.3
    got = hlop_project(X, H, spiking, 2.0, 50.0)
    np.testing.assert_allclose(got, hlop_project_reference(X, H, spiking, 2.0, 50.0), rtol=1e-12, atol=1e-12)
    if m == 0:
        np.testing.assert_array_equal(got, X)


@pytest.mark.parametrize("spiking", [False, True])
@pytest.mark.parametrize("n_fixed", [0, 2, 5])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_oja_update_matches_reference(spiking, n_fixed, momentum):
    rng = np.random.default_rng(2)
    H = rng.normal(size=(5, 11)) * 0.3
    M = rng.normal(size=(5, 11)) * 0.01
    X = rng.normal(size=(8, 11))
    args = (n_fixed, 0.05, momentum, 0.5, 3, spiking, 3.0, 100.0)
    H1, M1 = oja_subspace_update(H, M, X, *args)
    H2, M2 = oja_subspace_update_reference(H, M, X, *args)
    np.testing.assert_allclose(H1, H2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(M1, M2, rtol=1e-12, atol=1e-12)
    # frozen rows and their momentum are untouched; inputs are not modified
    np.testing.assert_array_equal(H1[:n_fixed], H[:n_fixed])
    np.testing.assert_array_equal(M1[:n_fixed], M[:n_fixed])
    if n_fixed < 5:
        assert not np.allclose(H1[n_fixed:], H[n_fixed:])


def test_oja_update_clips_large_updates():
    H = np.eye(1, 3)
    M = np.zeros((1, 3))
    # x is not in the span of h: y = 1e3 and D = y (x - y h) = (0, +-1e6, 0), far beyond the bound
    for sign in (1.0, -1.0):
        X = np.array([[1e3, sign * 1e3, 0.0]])
        args = (0, 1.0, 0.0, 10.0, 1, False, 1.0, 1.0)
        H1, M1 = oja_subspace_update(H, M, X, *args)
        np.testing.assert_array_equal(H1, [[1.0, sign * 10.0, 0.0]])  # unclipped: 1e6
        np.testing.assert_array_equal(M1, [[0.0, sign * 10.0, 0.0]])
        H2, _ = oja_subspace_update_reference(H, M, X, *args)
        np.testing.assert_array_equal(H1, H2)


def test_oja_fixed_point_is_orthonormal_principal_subspace():
    """An orthonormal basis of the data subspace is a fixed point of the update."""
    rng = np.random.default_rng(3)
    X, Q = _lowrank(rng, 50, 10, 3, noise=0.0)
    H = Q.T.copy()
    H1, _ = oja_subspace_update(H, np.zeros_like(H), X, 0, 0.1, 0.0, 10.0, 5, False, 1.0, 1.0)
    np.testing.assert_allclose(H1, H, atol=1e-12)


# ----------------------------------------------------------------------------- HLOPLayer behaviour


def test_layer_learns_principal_subspace_then_residual():
    rng = np.random.default_rng(4)
    dim = 40
    # task A lives in a 4-d subspace, task B in another 4-d subspace
    XA, QA = _lowrank(rng, 4000, dim, 4)
    XB, QB = _lowrank(rng, 4000, dim, 4)
    layer = HLOPLayer(dim, HLOPConfig(lr=0.05, iterations=3, momentum=0.9), seed=0).add_subspace(4)
    for i in range(0, 4000, 50):
        layer.update(XA[i : i + 50])
    assert _max_principal_angle_sin(layer.components_.T, QA) < 0.05
    assert layer.orthonormality_error() < 0.05
    HA = layer.components_.copy()
    layer.consolidate().add_subspace(4)
    for i in range(0, 4000, 50):
        layer.update(XB[i : i + 50])
    np.testing.assert_array_equal(layer.components_[:4], HA)  # old neurons frozen
    # the new neurons span the part of B outside A; together they span A + B
    assert _max_principal_angle_sin(layer.components_.T, np.hstack([QA, QB])) < 0.05
    # projection removes old-task traces almost completely but keeps most of a random direction
    XA_test, _ = _lowrank(np.random.default_rng(5), 200, dim, 4)
    XA_test = XA_test @ QA @ QA.T  # noise-free samples in span(A)
    layer.consolidate()
    res = layer.project(XA_test)
    assert np.linalg.norm(res) < 0.05 * np.linalg.norm(XA_test)


def test_projection_vs_exact_svd_projection():
    rng = np.random.default_rng(6)
    X, Q = _lowrank(rng, 3000, 30, 5)
    hl = HLOPLayer(30, HLOPConfig(lr=0.05, iterations=3), seed=1).add_subspace(5)
    for i in range(0, 3000, 50):
        hl.update(X[i : i + 50])
    hl.consolidate()
    ex = ExactSubspaceProjector(30).add_task(X, n_components=5)
    Z = rng.standard_normal((20, 30))
    err = np.linalg.norm(hl.project(Z) - ex.project(Z)) / np.linalg.norm(ex.project(Z))
    assert err < 0.05


def test_spiking_lateral_projection_close_to_nonspiking():
    rng = np.random.default_rng(7)
    X, Q = _lowrank(rng, 3000, 30, 5)
    out = {}
    for spiking in (False, True):
        hl = HLOPLayer(30, HLOPConfig(lr=0.05, iterations=3, spiking=spiking), seed=1).add_subspace(5)
        for i in range(0, 3000, 50):
            hl.update(X[i : i + 50])
        out[spiking] = hl.consolidate()
    assert _max_principal_angle_sin(out[True].components_.T, Q) < 0.05
    Z = rng.standard_normal((10, 30))
    assert np.linalg.norm(out[True].project(Z) - out[False].project(Z)) < 0.1 * np.linalg.norm(Z)


def test_first_task_projection_is_identity():
    layer = HLOPLayer(6, seed=0).add_subspace(2)
    X = np.random.default_rng(0).normal(size=(3, 6))
    np.testing.assert_array_equal(layer.project(X), X)
    assert not np.allclose(layer.project(X, include_current=True), X)


def test_new_neurons_are_orthogonal_to_old():
    layer = HLOPLayer(20, seed=0).add_subspace(5).consolidate().add_subspace(7)
    H = layer.components_
    np.testing.assert_allclose(H @ H.T, np.eye(12), atol=1e-10)
    assert layer.sizes_ == [5, 7] and layer.n_fixed_ == 5


def test_guards():
    layer = HLOPLayer(10, seed=0)
    with pytest.raises(ValueError, match="n_new"):
        layer.add_subspace(0)
    with pytest.raises(ValueError, match="more than the input dimension 10"):
        layer.add_subspace(11)
    layer.add_subspace(6)
    with pytest.raises(ValueError, match="at most 4 new neurons"):
        layer.add_subspace(5)
    with pytest.warns(SubspaceSaturationWarning, match="whole input space"):
        layer.add_subspace(4)
    with pytest.raises(ValueError, match="NaN"):
        layer.update(np.full((2, 10), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        layer.project(np.array([[np.nan] * 10]))
    with pytest.raises(ValueError, match="10 columns"):
        layer.update(np.ones((2, 9)))
    with pytest.raises(ValueError, match="n_inputs"):
        HLOPLayer(0).add_subspace(1)


def test_divergence_is_an_error_not_silent():
    layer = HLOPLayer(5, HLOPConfig(lr=1e6, iterations=1, momentum=0.0, clip=1e300), seed=0).add_subspace(2)
    with pytest.raises(FloatingPointError, match="diverged"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            layer.update(np.random.default_rng(0).normal(size=(4, 5)) * 100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0.0}, "lr"),
        ({"iterations": 0}, "iterations"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"clip": -1.0}, "clip"),
        ({"spiking": "yes"}, "spiking"),
        ({"spiking_timesteps": 0}, "spiking_timesteps"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HLOPConfig(**kwargs)


# ----------------------------------------------------------------------------- exact SVD projection


def test_svd_basis_update_counts_and_threshold():
    rng = np.random.default_rng(8)
    X, Q = _lowrank(rng, 500, 25, 4, noise=1e-3)
    U = svd_basis_update(np.zeros((25, 0)), X, n_components=4)
    np.testing.assert_allclose(U.T @ U, np.eye(4), atol=1e-10)
    assert _max_principal_angle_sin(U, Q) < 1e-2
    # threshold: almost all energy is in 4 directions
    U2 = svd_basis_update(np.zeros((25, 0)), X, threshold=0.99)
    assert U2.shape[1] <= 4
    # nothing new when the basis already explains the data
    U3 = svd_basis_update(U, X, threshold=0.99)
    assert U3.shape[1] == 4
    # residual directions are orthogonal to the old basis
    Y, _ = _lowrank(rng, 500, 25, 3, noise=0.0)
    U4 = svd_basis_update(U, Y, n_components=3)
    np.testing.assert_allclose(U4.T @ U4, np.eye(7), atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(project_out(Y, U4)), 0.0, atol=1e-8)
    with pytest.raises(ValueError, match="exactly one"):
        svd_basis_update(U, X)
    with pytest.raises(ValueError, match="more than the input dimension"):
        ExactSubspaceProjector(25).add_task(X, n_components=26)
    with pytest.raises(ValueError, match="NaN"):
        ExactSubspaceProjector(25).add_task(np.full((3, 25), np.nan), n_components=1)


# ----------------------------------------------------------------------------- EWC


def test_fisher_kernel_matches_per_sample_outer_products():
    rng = np.random.default_rng(9)
    d = rng.normal(size=(7, 4))
    x = rng.normal(size=(7, 6))
    np.testing.assert_allclose(outer_fisher_diagonal(d, x), outer_fisher_diagonal_reference(d, x), rtol=1e-12)


def test_ewc_accumulated_penalty_matches_sum_over_tasks():
    rng = np.random.default_rng(10)
    anchors = [rng.normal(size=(3, 4)) for _ in range(3)]
    fishers = [rng.random((3, 4)) for _ in range(3)]
    ewc = EWCPenalty(lam=7.0)
    theta = rng.normal(size=(3, 4))
    assert ewc.penalty_and_grads([theta])[0] == 0.0
    for a, F in zip(anchors, fishers, strict=True):
        ewc.consolidate([a], [F])
    p, (g,) = ewc.penalty_and_grads([theta])
    p_ref, g_ref = ewc_penalty_grad_reference(theta, anchors, fishers, 7.0)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10)
    # finite-difference check of the gradient
    eps = 1e-6
    e = np.zeros_like(theta)
    e[1, 2] = eps
    num = (ewc.penalty_and_grads([theta + e])[0] - ewc.penalty_and_grads([theta - e])[0]) / (2 * eps)
    assert abs(num - g[1, 2]) < 1e-5
    with pytest.raises(ValueError, match="non-negative"):
        ewc.consolidate([anchors[0]], [-fishers[0]])
    # proximal step: stationary point of |t' - theta|^2 / (2 lr) + penalty(t'), stable for huge lambda
    for lam in (7.0, 1e8):
        ewc.lam = lam
        (t_new,) = ewc.proximal([theta], 0.1)
        _, (g_new,) = ewc.penalty_and_grads([t_new])
        np.testing.assert_allclose((t_new - theta) / 0.1 + g_new, 0.0, atol=1e-6 * max(1.0, lam))
    pinned = sum(F * a for F, a in zip(fishers, anchors, strict=True)) / sum(fishers)
    assert np.all(np.abs(t_new - pinned) < 1e-6)


# ----------------------------------------------------------------------------- delta-rule readout


@pytest.mark.parametrize("learn_bias", [False, True])
def test_delta_kernel_matches_reference(learn_bias):
    rng = np.random.default_rng(11)
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    X, Xp, Y = rng.normal(size=(6, 5)), rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    W1, b1 = delta_rule_update(W, b, X, Xp, Y, 0.1, learn_bias)
    W2, b2 = delta_rule_update_reference(W, b, X, Xp, Y, 0.1, learn_bias)
    np.testing.assert_allclose(W1, W2, rtol=1e-12)
    np.testing.assert_allclose(b1, b2, rtol=1e-12)


def test_hlop_delta_readout_forgets_less_than_plain_delta_rule():
    """Two regression tasks on states in overlapping subspaces with conflicting targets."""
    rng = np.random.default_rng(12)
    dim = 60
    Q, _ = np.linalg.qr(rng.standard_normal((dim, 8)))
    XA = rng.standard_normal((3000, 5)) @ Q[:, :5].T  # task A: directions 0-4
    XB = rng.standard_normal((3000, 5)) @ Q[:, 3:].T  # task B: directions 3-7 (two shared)
    WA, WB = rng.normal(size=(2, dim)), rng.normal(size=(2, dim))
    YA, YB = XA @ WA.T, XB @ WB.T
    errs = {}
    for protect in (True, False):
        r = HLOPDeltaReadout(eta=0.05, n_subspace=5, epochs=3, hlop=HLOPConfig(lr=0.05, iterations=3),
                             protect=protect, seed=0)
        r.partial_fit(XA, YA)
        err_a_before = np.mean((r.predict(XA) - YA) ** 2)
        err_b_before = np.mean((r.predict(XB) - YB) ** 2)
        r.begin_task().partial_fit(XB, YB)
        errs[protect] = (err_a_before, np.mean((r.predict(XA) - YA) ** 2), np.mean((r.predict(XB) - YB) ** 2),
                         err_b_before)
    var_a, var_b = np.mean(YA**2), np.mean(YB**2)
    assert errs[True][0] < 0.05 * var_a  # task A learned
    # task B learned in the free directions (the two shared ones stay as task A set them)
    assert errs[True][2] < 0.6 * errs[True][3]
    assert errs[False][2] < 0.05 * var_b  # the plain rule learns B fully ...
    assert errs[False][1] > 0.2 * var_a  # ... and forgets A
    assert errs[True][1] < 0.1 * errs[False][1]  # HLOP forgets much less
    assert r.task_ == 1 and r.hlop_.n_subspace == 10


def test_hlop_delta_readout_errors():
    with pytest.raises(ValueError, match="before begin_task"):
        HLOPDeltaReadout().begin_task()
    with pytest.raises(ValueError, match="eta"):
        HLOPDeltaReadout(eta=-1).partial_fit(np.ones((3, 4)), np.ones(3))
    r = HLOPDeltaReadout(n_subspace=2).partial_fit(np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="4 features"):
        r.partial_fit(np.ones((3, 5)), np.ones(3))
    with pytest.raises(ValueError, match="n_new"):
        r.begin_task(0)


def test_svd_basis_update_falls_back_to_gesvd_when_gesdd_fails(monkeypatch):
    from plasticity_rules import projection

    rng = np.random.default_rng(3)
    A = rng.normal(size=(40, 12))
    U0 = np.zeros((12, 0))
    expected = projection.svd_basis_update(U0, A, n_components=3)

    def failing_svd(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(projection.np.linalg, "svd", failing_svd)
    got = projection.svd_basis_update(U0, A, n_components=3)
    # the same subspace (bases may differ in sign)
    np.testing.assert_allclose(np.abs(got.T @ expected), np.eye(3), atol=1e-8)
