"""Classification: tinytrain.train_classifier (the command line's `train --task classify` on numpy
arrays, bit for bit), Model.predict_proba, and tinytrain.sklearn.TinyMLPClassifier checked by
scikit-learn itself."""

import json
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import tinytrain
from conftest import sine
from tinytrain.sklearn import TinyMLPClassifier

# Checks of scikit-learn's suite that cannot apply to this estimator, and why. None: every
# check passes (scikit-learn itself skips `check_array_api_input` without an array-API library,
# as for TinyMLPRegressor: the estimator converts every input to numpy float32, the device's
# type).
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [TinyMLPClassifier(max_epochs=100)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def rings(n=240, seed=0):
    """Three classes of 2-D points on rings of radius 1, 2 and 3 (not linearly separable):
    ``X`` float32 (n, 2), the labels ``"inner"``, ``"middle"``, ``"outer"``."""
    rng = np.random.default_rng(seed)
    ring = rng.integers(0, 3, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 1.0 + ring + 0.15 * rng.standard_normal(n)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype(np.float32)
    return X, np.array(["inner", "middle", "outer"])[ring]


def write_labelled_csv(path, X, labels):
    """``X``'s columns as the shortest decimal text of each float32 (same bits when read back),
    then the label column."""
    text = lambda v: np.format_float_positional(np.float32(v), unique=True, trim="0")
    lines = [",".join([f"x{i}" for i in range(X.shape[1])] + ["label"])]
    lines += [",".join([text(v) for v in row] + [str(c)]) for row, c in zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "settings, flags",
    [
        (dict(optimizer="adam", max_epochs=40, seed=5, batch_size=8),
         ["--optimizer", "adam", "--epochs", "40", "--seed", "5", "--batch", "8"]),
        (dict(optimizer="sgd", learning_rate=0.05, max_epochs=25, seed=2, class_weight="balanced",
              layers=[2, 6, 3], val_fraction=0.3, test_fraction=0.1),
         ["--optimizer", "sgd", "--lr", "0.05", "--epochs", "25", "--seed", "2",
          "--class-weights", "balanced", "--layers", "2,6,3", "--val", "0.3", "--test", "0.1"]),
    ],
)
def test_same_bits_and_report_as_the_command_line(cli, tmp_path, settings, flags):
    X, labels = rings()
    data = write_labelled_csv(tmp_path / "d.csv", X, labels)
    cli("train", "--data", data, "--task", "classify", *flags,
        "--model", tmp_path / "cli.ttm", "--report", tmp_path / "cli.json")

    model, report = tinytrain.train_classifier(
        X, labels, feature_names=["x0", "x1"], target_name="label", **settings
    )

    from_cli = tinytrain.Model.load(tmp_path / "cli.ttm")
    assert from_cli.task == model.task == "classification"
    assert model.params.tobytes() == from_cli.params.tobytes()
    assert model.stats.tobytes() == from_cli.stats.tobytes()
    assert model == from_cli
    assert model.output_names == ["inner", "middle", "outer"]
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert report["data"] == "numpy arrays X (240, 2), labels (240,) of 3 classes"
    del report["data"], expected["data"]
    assert report == expected
    # The device's probabilities: `tinytrain predict --probabilities` prints the same float32s.
    done = cli("predict", "--model", tmp_path / "cli.ttm", "--data", data, "--probabilities")
    rows = [line.split(",") for line in done.stdout.strip().splitlines()[1:]]
    printed = np.array([[float(v) for v in row[3:]] for row in rows], dtype=np.float32)
    assert printed.tobytes() == model.predict_proba(X).tobytes()
    assert [row[2] for row in rows] == list(
        np.array(model.output_names)[np.argmax(model.predict(X), axis=1)]
    )


def test_labels_of_any_sortable_dtype_give_the_same_bits():
    X, labels = rings(150)
    codes = np.searchsorted(["inner", "middle", "outer"], labels)
    runs = {
        "text": labels,
        "objects": labels.astype(object),
        "integers": codes * 7 - 3,  # -3, 4, 11: sorted by value, as the classes' text is
        "whole floats": (codes * 7 - 3).astype(np.float64),
        "uint8": codes.astype(np.uint8),
    }
    models = {}
    for name, y in runs.items():
        models[name], report = tinytrain.train_classifier(X, y, max_epochs=15, seed=4)
        assert [c["label"] for c in report["classes"]] == models[name].output_names
    first = models.pop("text")
    for name, model in models.items():
        assert model.params.tobytes() == first.params.tobytes(), name
    assert models["integers"].output_names == ["-3", "4", "11"]
    assert models["whole floats"].output_names == ["-3", "4", "11"]


def test_bad_labels_are_named():
    X, labels = rings(60)
    with pytest.raises(ValueError, match="1 class"):
        tinytrain.train_classifier(X, np.zeros(60, dtype=int))
    with pytest.raises(ValueError, match=r"y\[0\] is 0.5: labels with fractions"):
        tinytrain.train_classifier(X, np.full(60, 0.5))
    y = np.asarray(labels, dtype=object)
    y[7] = "rare"
    with pytest.raises(ValueError, match="class `rare` has 1 sample"):
        tinytrain.train_classifier(X, y)
    y = np.arange(60) % 2 * 1.0
    y[5] = np.nan
    with pytest.raises(tinytrain.DataError, match=r"y\[5\]") as raised:
        tinytrain.train_classifier(X, y)
    assert raised.value.sample == 5
    with pytest.raises(TypeError, match="float32"):
        tinytrain.train_classifier(X.astype(np.float64), labels)
    mixed = np.asarray(labels, dtype=object)
    mixed[3] = 1
    with pytest.raises(TypeError, match=r"y mixes labels of kinds \['int', 'str'\]"):
        tinytrain.train_classifier(X, mixed)
    with pytest.raises(ValueError, match="X has 60 samples but y has 59"):
        tinytrain.train_classifier(X, labels[:59])
    with pytest.raises(ValueError, match="the last width must be the number of classes, 3"):
        tinytrain.train_classifier(X, labels, [2, 8, 2])
    with pytest.raises(ValueError, match="class_weight"):
        tinytrain.train_classifier(X, labels, class_weight="equal")
    with pytest.raises(ValueError, match="class_weight names \\['zz'\\]"):
        tinytrain.train_classifier(X, labels, class_weight={"zz": 1.0})
    with pytest.raises(ValueError, match="class_weight names \\['zz'\\]"):
        TinyMLPClassifier(class_weight={"inner": 2.0, "zz": 1.0}).fit(X, labels)


def test_predict_proba_is_for_classifiers():
    X, labels = rings(90)
    model, _ = tinytrain.train_classifier(X, labels, max_epochs=10)
    p = model.predict_proba(X)
    assert p.dtype == np.float32 and p.shape == (90, 3)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert (np.argmax(p, axis=1) == np.argmax(model.predict(X), axis=1)).all()
    again = tinytrain.Model.from_bytes(model.to_bytes())
    assert again == model and again.task == "classification"
    regression, _ = tinytrain.train(*sine(40), max_epochs=2)
    assert regression.task == "regression"
    with pytest.raises(ValueError, match="regression model"):
        regression.predict_proba(sine(5)[0])


def test_classifier_same_bits_as_train_classifier_and_its_attributes():
    X, labels = rings(200)
    est = TinyMLPClassifier((8,), optimizer="sgd", max_epochs=30, random_state=3).fit(X, labels)
    model, report = tinytrain.train_classifier(
        X, labels, [2, 8, 3], optimizer="sgd", max_epochs=30, seed=3, test_fraction=0.0
    )
    assert est.model_ == model
    assert list(est.classes_) == ["inner", "middle", "outer"]
    assert est.predict(X).tolist() == list(est.classes_[np.argmax(model.predict(X), axis=1)])
    assert est.predict_proba(X).tobytes() == model.predict_proba(X).astype(np.float64).tobytes()
    assert est.decision_function(X).shape == (200, 3)
    assert len(est.loss_curve_) == len(est.validation_loss_curve_) == est.n_iter_
    assert est.report_["samples"]["test"] == 0


def test_two_classes_decision_function_and_pickle():
    X, labels = rings(200)
    y = labels == "outer"  # booleans: False, True
    est = TinyMLPClassifier((16,), max_epochs=200).fit(X, y)
    assert est.classes_.dtype == bool and list(est.classes_) == [False, True]
    d = est.decision_function(X)
    assert d.shape == (200,)
    assert ((d > 0) == est.predict(X)).all()
    assert est.score(X, y) > 0.9
    again = pickle.loads(pickle.dumps(est))
    assert again.predict_proba(X).tobytes() == est.predict_proba(X).tobytes()
    assert clone(est).fit(X.astype(np.float64).tolist(), y.tolist()).model_ == est.model_


def test_iris_in_a_pipeline_with_cross_validation():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), TinyMLPClassifier((16,), max_epochs=200))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85
