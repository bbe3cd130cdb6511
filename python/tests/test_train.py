"""tinytrain.train: the command line's run and report on numpy arrays, bit for bit."""

import json
import threading

import numpy as np
import pytest

import tinytrain
from conftest import sine, write_csv

SETTINGS = dict(
    optimizer="adam",
    learning_rate=0.01,
    batch_size=8,
    max_epochs=60,
    patience=10,
    seed=5,
    val_fraction=0.25,
    test_fraction=0.15,
    standardize=True,
)


def cli_args(layers, s):
    args = [
        "--layers", ",".join(map(str, layers)),
        "--optimizer", s["optimizer"],
        "--lr", s["learning_rate"],
        "--batch", s["batch_size"],
        "--epochs", s["max_epochs"],
        "--patience", s["patience"],
        "--seed", s["seed"],
        "--val", s["val_fraction"],
        "--test", s["test_fraction"],
    ]
    return args + ([] if s["standardize"] else ["--no-standardize"])


@pytest.mark.parametrize(
    "layers, settings",
    [
        ([2, 12, 8, 1], SETTINGS),
        ([2, 6, 1], dict(SETTINGS, optimizer="sgd", standardize=False, seed=11)),
        ([2, 1], dict(SETTINGS, optimizer="momentum", batch_size=32)),
    ],
)
def test_same_bits_and_report_as_the_command_line(cli, tmp_path, layers, settings):
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(300, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] + np.sin(X[:, 0]) + 0.1 * rng.standard_normal(300)).astype(np.float32)
    data = write_csv(tmp_path / "d.csv", X, y)
    cli("train", "--data", data, *cli_args(layers, settings),
        "--model", tmp_path / "cli.ttm", "--report", tmp_path / "cli.json")

    model, report = tinytrain.train(X, y, layers, **settings)

    from_cli = tinytrain.Model.load(tmp_path / "cli.ttm")
    assert model.widths == from_cli.widths == layers
    assert model.params.tobytes() == from_cli.params.tobytes()
    assert model.stats.tobytes() == from_cli.stats.tobytes()
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert report.keys() == expected.keys()
    assert report["data"] == "numpy arrays X (300, 2), y (300,)"
    del report["data"], expected["data"]
    assert report == expected


def test_report_fields():
    X, y = sine(240)
    model, report = tinytrain.train(X, y, optimizer="adam", max_epochs=40, standardize=True)
    assert model.widths == [1, 16, 16, 1]
    assert report["samples"] == {"train": 144, "val": 48, "test": 48}
    assert report["columns"] == {"features": ["x0"], "target": "y"}
    assert report["config"]["layers"] == [1, 16, 16, 1]
    assert report["config"]["optimizer"] == "adam"
    assert len(report["history"]) == report["epochs_run"] <= 40
    assert report["stop_reason"] in {"early_stopped", "max_epochs"}
    assert report["network"]["val_mse"] < report["baseline"]["val_mse"]
    assert isinstance(report["diagnostics"]["notes"], list)


def test_column_names_go_to_the_model_and_the_report(tmp_path):
    X, y = sine(100)
    model, report = tinytrain.train(
        X, y, max_epochs=5, feature_names=["angle"], target_names=["height"]
    )
    assert report["columns"] == {"features": ["angle"], "target": "height"}
    assert (model.input_names, model.output_names) == (["angle"], ["height"])
    model.save(tmp_path / "m.ttm")
    assert tinytrain.Model.load(tmp_path / "m.ttm").input_names == ["angle"]
    with pytest.raises(ValueError, match="feature_names has 2 names for 1 columns"):
        tinytrain.train(X, y, feature_names=["a", "b"])


def test_several_targets():
    X, y = sine(200)
    Y = np.stack([y, -2 * y], axis=1)
    model, report = tinytrain.train(X, Y, [1, 8, 2], max_epochs=20, standardize=True)
    assert model.n_outputs == 2 and model.predict(X).shape == (200, 2)
    assert report["data"] == "numpy arrays X (200, 1), y (200, 2)"


def test_the_gil_is_released_while_training():
    """Another thread runs Python code while a long training run is under way."""
    X, y = sine(1024)
    started, finished = threading.Event(), threading.Event()

    def work():
        started.set()
        tinytrain.train(X, y, [1, 16, 16, 1], max_epochs=300, patience=10**6)
        finished.set()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    # Holding the GIL, the worker would keep it until `finished.set()` ran.
    observed_while_training = not finished.is_set()
    worker.join()
    assert observed_while_training and finished.is_set()


def test_bad_input_names_the_argument_and_place():
    X, y = sine(50)
    with pytest.raises(TypeError, match="X must have dtype float32, not float64"):
        tinytrain.train(X.astype(np.float64), y)
    with pytest.raises(TypeError, match="y must be a numpy.ndarray"):
        tinytrain.train(X, list(y))
    with pytest.raises(ValueError, match="X has 50 samples but y has 49"):
        tinytrain.train(X, y[:49])
    with pytest.raises(ValueError, match="X must have 2 dimensions"):
        tinytrain.train(X[:, 0], y)
    with pytest.raises(ValueError, match="the first width must be the number of columns of X, 1"):
        tinytrain.train(X, y, [2, 4, 1])
    with pytest.raises(ValueError, match="the last width must be the number of targets per sample, 1"):
        tinytrain.train(X, y, [1, 4, 3])
    with pytest.raises(ValueError, match='optimizer "rmsprop"'):
        tinytrain.train(X, y, optimizer="rmsprop")
    with pytest.raises(ValueError, match="learning rate"):
        tinytrain.train(X, y, learning_rate=-1.0)
    with pytest.raises(ValueError, match="batch size"):
        tinytrain.train(X, y, batch_size=0)
    with pytest.raises(ValueError, match="split fractions"):
        tinytrain.train(X, y, val_fraction=0.7, test_fraction=0.5)
    y = y.copy()
    y[17] = np.nan
    with pytest.raises(tinytrain.DataError) as e:
        tinytrain.train(X, y)
    assert (e.value.sample, e.value.field, e.value.index) == (17, "target", 0)
    assert "y[17, 0]" in str(e.value)
