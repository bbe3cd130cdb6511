"""tinytrain.sklearn: scikit-learn's estimator conventions, checked by scikit-learn itself."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import tinytrain
from conftest import sine
from tinytrain.sklearn import TinyMLPRegressor

# Checks of scikit-learn's suite that cannot apply to this estimator, and why. None: every
# check passes. scikit-learn itself skips one, `check_array_api_input`, unless SCIPY_ARRAY_API=1
# and an array-API library are installed: it is for estimators that compute in the namespace
# of their input (CuPy, PyTorch tensors); this one converts every input to a numpy float32
# array, the device's type, so it does not apply.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [TinyMLPRegressor(max_epochs=200)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def test_same_bits_as_train():
    X, y = sine(200)
    est = TinyMLPRegressor((8,), optimizer="sgd", max_epochs=30, random_state=9).fit(X, y)
    model, _ = tinytrain.train(
        X, y, [1, 8, 1], optimizer="sgd", max_epochs=30, seed=9, test_fraction=0.0,
        standardize=True,
    )
    assert est.model_ == model
    assert est.predict(X).tobytes() == model.predict(X)[:, 0].astype(np.float64).tobytes()


def test_converts_what_scikit_learn_accepts():
    X, y = sine(120)
    est = TinyMLPRegressor((4,), max_epochs=20)
    a = est.fit(X, y).predict(X)
    b = clone(est).fit(X.astype(np.float64).tolist(), list(y.astype(np.float64))).predict(X)
    assert a.tobytes() == b.tobytes()
    wide = np.hstack([X, X]).astype(np.float64)
    c = clone(est).fit(wide[:, ::2], y).predict(X)  # non-contiguous float64
    assert a.tobytes() == c.tobytes()


def test_pipeline_cross_validation_and_grid_search():
    X, y = sine(300)
    pipe = make_pipeline(StandardScaler(), TinyMLPRegressor((16,), max_epochs=150))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    grid = GridSearchCV(TinyMLPRegressor(max_epochs=60), {"hidden_layer_sizes": [(), (16,)]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_ == {"hidden_layer_sizes": (16,)}  # a line cannot fit a sine


def test_learned_attributes_and_pickle():
    X, y = sine(200)
    est = TinyMLPRegressor((16,), max_epochs=300, patience=50).fit(X, y)
    assert est.n_features_in_ == 1 and est.n_outputs_ == 1
    assert est.model_.widths == [1, 16, 1]
    assert len(est.loss_curve_) == len(est.validation_scores_) == est.n_iter_
    assert 1 <= est.best_epoch_ <= est.n_iter_
    assert est.report_["samples"]["test"] == 0
    again = pickle.loads(pickle.dumps(est))
    assert again.model_ == est.model_
    assert again.predict(X).tobytes() == est.predict(X).tobytes()
    assert est.score(X, y) > 0.9


def test_several_outputs():
    X, y = sine(200)
    Y = np.stack([y, 3 * y + 1], axis=1)
    est = TinyMLPRegressor((8,), max_epochs=60).fit(X, Y)
    assert est.predict(X).shape == (200, 2) and est.model_.n_outputs == 2


def test_bad_parameters_fail_in_fit_not_init():
    X, y = sine(50)
    est = TinyMLPRegressor(optimizer="rmsprop")  # stored as given
    assert est.get_params()["optimizer"] == "rmsprop"
    with pytest.raises(ValueError, match="rmsprop"):
        est.fit(X, y)
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TinyMLPRegressor().fit(X, y)



def test_feature_names_from_a_data_frame():
    import pandas as pd  # a test requirement, not the package's
    X, y = sine(100)
    est = TinyMLPRegressor((4,), max_epochs=10).fit(pd.DataFrame({"temperature": X[:, 0]}), y)
    assert list(est.feature_names_in_) == ["temperature"]
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)
