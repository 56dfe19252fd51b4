"""Every readout follows the scikit-learn estimator contract (the project's readout convention).

``__init__`` only stores its arguments (no validation, no derived state), ``fit`` returns
``self`` and validates there, attributes learned by ``fit`` end in ``_``, and
``get_params`` / ``set_params`` / :func:`sklearn.base.clone` round-trip.
"""

import inspect

import numpy as np
import pytest
from sklearn.base import clone

from plasticity_rules.delta import HLOPDeltaReadout
from plasticity_rules.force import ForceReadout
from plasticity_rules.readouts import RidgeReadout, SoftmaxReadout
from plasticity_rules.three_factor import ThreeFactorReadout

# (class, a parameter value that fit must reject, how to make its training data)
rng = np.random.default_rng(0)
_X = rng.random((60, 5))
_REG = (_X, _X @ rng.normal(size=(5, 2)))
_CLS = (_X, (_X[:, 0] > 0.5).astype(np.int64))
READOUTS = [
    (RidgeReadout, {"alpha": -1.0}, _REG),
    (ForceReadout, {"alpha": 0.0}, _REG),
    (ThreeFactorReadout, {"eta": -0.1}, _REG),
    (HLOPDeltaReadout, {"eta": -0.1}, _REG),
    (SoftmaxReadout, {"n_classes": 2, "epochs": 0}, _CLS),
]


def test_every_readout_is_listed():
    import plasticity_rules.delta
    import plasticity_rules.force
    import plasticity_rules.readouts
    import plasticity_rules.three_factor

    found = {
        obj
        for mod in (
            plasticity_rules.readouts,
            plasticity_rules.force,
            plasticity_rules.three_factor,
            plasticity_rules.delta,
        )
        for name, obj in vars(mod).items()
        if inspect.isclass(obj)
        and name.endswith("Readout")
        and name != "Readout"
        and obj.__module__ == mod.__name__
        and hasattr(obj, "fit")
    }
    assert found == {cls for cls, _, _ in READOUTS}


def _params(cls):
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


@pytest.mark.parametrize("cls,bad,data", READOUTS, ids=[c.__name__ for c, _, _ in READOUTS])
def test_estimator_contract(cls, bad, data):
    X, Y = data
    kwargs = {SoftmaxReadout: {"n_classes": 2}, HLOPDeltaReadout: {"n_subspace": 2, "seed": 0}}.get(cls, {})
    # no logic in __init__: bad values are stored as given, and nothing else is set
    est = cls(**{**kwargs, **bad})
    assert vars(est) == est.get_params() and list(est.get_params()) == _params(cls)
    with pytest.raises(ValueError):
        est.fit(X, Y)  # ... and rejected when learning starts
    est = cls(**kwargs)
    before = set(vars(est))
    assert est.fit(X, Y) is est
    learned = set(vars(est)) - before
    assert learned and all(a.endswith("_") or a.startswith("_") for a in learned), sorted(learned)
    assert "coef_" in learned and est.predict(X).shape[0] == X.shape[0]
    # get_params / set_params / clone round trip
    params = est.get_params()
    assert est.set_params(**params) is est and est.get_params() == params
    twin = clone(est)
    assert type(twin) is cls and not hasattr(twin, "coef_")
    assert repr(twin.get_params()) == repr(params)
    np.testing.assert_array_equal(twin.fit(X, Y).predict(X), est.fit(X, Y).predict(X))  # same seed, same fit
    with pytest.raises(ValueError, match="unknown parameter"):
        est.set_params(no_such_parameter=1)
