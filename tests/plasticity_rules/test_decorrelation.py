"""Online anti-Hebbian decorrelation (Ahmad et al. 2024): kernel, reference, fixed points."""

import numpy as np
import pytest

from plasticity_rules.decorrelation import Decorrelator, decorrelate_train, decorrelate_train_reference


def _correlated(n_steps=6000, seed=0):
    rng = np.random.default_rng(seed)
    A = np.array([[1.0, 0.0, 0.0], [0.9, 0.3, 0.0], [0.5, 0.4, 0.2]])
    return rng.normal(size=(n_steps, 3)) @ A.T * 0.3


@pytest.mark.parametrize("kappa,every,noisy", [(0.5, 1, False), (0.0, 1, False), (1.0, 3, True)])
def test_kernel_matches_reference(kappa, every, noisy):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)) * 0.3
    Xi = rng.normal(size=X.shape) * 0.1 if noisy else np.zeros((0, 6))
    R0 = np.eye(6) + 0.05 * rng.normal(size=(6, 6))
    Z, R = decorrelate_train(R0, X, 0.01, kappa, 0.1, every, Xi)
    Zr, Rr = decorrelate_train_reference(R0, X, 0.01, kappa, 0.1, every, Xi)
    np.testing.assert_allclose(Z, Zr, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(R, Rr, rtol=1e-10, atol=1e-12)
    assert not np.allclose(R, R0)


def test_outputs_use_the_matrix_before_each_update():
    X = _correlated(50)
    dec = Decorrelator(eta=0.01)
    Z = dec.transform_learn(X)
    np.testing.assert_allclose(Z[0], X[0])  # R(0) = I
    np.testing.assert_allclose(dec.transform(X[-1:]), X[-1:] @ dec.R_.T)


def test_whitens_correlated_inputs():
    X = _correlated()
    C = X.T @ X / len(X)
    assert abs(C[0, 1]) / np.sqrt(C[0, 0] * C[1, 1]) > 0.9
    dec = Decorrelator(eta=2e-3, kappa=0.5, target=0.05)
    dec.transform_learn(X)
    Z = dec.transform(_correlated(seed=1))
    Cz = Z.T @ Z / len(Z)
    off = Cz - np.diag(np.diag(Cz))
    assert np.max(np.abs(off)) < 0.1 * 0.05  # decorrelated
    np.testing.assert_allclose(np.diag(Cz), 0.05, rtol=0.15)  # second moments at the target


def test_decorrelate_only_keeps_variances_free():
    X = _correlated()
    dec = Decorrelator(eta=2e-3, kappa=0.0, target=0.05)
    Z = dec.transform_learn(X)[-3000:]
    Cz = Z.T @ Z / len(Z)
    r = Cz[0, 1] / np.sqrt(Cz[0, 0] * Cz[1, 1])
    assert abs(r) < 0.1


def test_learning_noise_does_not_amplify_weak_directions():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(8000, 2)) * np.array([0.3, 0.003])  # one strong, one weak direction
    full = Decorrelator(eta=2e-3, kappa=0.5, target=0.05)
    full.transform_learn(X)
    reg = Decorrelator(eta=2e-3, kappa=0.5, target=0.05, noise=1.0, seed=0)
    reg.transform_learn(X)
    assert abs(full.R_[1, 1]) > 5 * abs(reg.R_[1, 1])  # full whitening boosts the weak direction
    assert reg.R_[0, 0] == pytest.approx(full.R_[0, 0], rel=0.3)  # the strong one is whitened alike


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(eta=0.0), "eta"),
        (dict(kappa=1.5), "kappa"),
        (dict(noise=-1.0), "noise"),
        (dict(target=0.0), "target"),
        (dict(every=0), "every"),
    ],
)
def test_parameters_are_validated(kw, match):
    with pytest.raises(ValueError, match=match):
        Decorrelator(**kw)


def test_feature_count_is_checked():
    dec = Decorrelator()
    dec.transform_learn(np.ones((3, 4)))
    with pytest.raises(ValueError, match="features"):
        dec.transform_learn(np.ones((3, 5)))
