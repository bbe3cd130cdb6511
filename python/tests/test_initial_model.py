"""Training on from given weights: Model.initial, initial_model, the optimizer's state kept
with the model, validation_data."""

import numpy as np
import pytest

import tinytrain


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 0])).astype(np.float32)
    return X, y


SHORT = dict(max_epochs=4, patience=10, seed=7)


def test_initial_is_where_train_starts_without_standardisation():
    X, y = data()
    layers = [2, 8, 1]
    scratch, _ = tinytrain.train(X, y, layers, standardize=False, **SHORT)
    start = tinytrain.Model.initial(layers, seed=7)
    assert start.stats.tolist() == [0, 0, 1, 1, 0, 1]
    # A fresh optimizer (no warm-up) from the seed's initial weights and identity statistics
    # is the run from scratch without standardisation, bit for bit.
    model, _ = tinytrain.train(X, y, initial_model=start, warm_up=False, **SHORT)
    assert model.params.tobytes() == scratch.params.tobytes()
    # Another seed draws other weights.
    assert tinytrain.Model.initial(layers, seed=8).params.tobytes() != start.params.tobytes()


def test_the_models_statistics_are_kept_not_fitted():
    X, y = data()
    first, _ = tinytrain.train(X, y, [2, 8, 1], **SHORT)
    state = first.state_dict()
    state["input_mean"] = np.array([0.5, -0.5], np.float32)
    state["target_std"] = np.array([3.0], np.float32)
    start = tinytrain.Model.from_state_dict(state)
    model, _ = tinytrain.train(X, y, initial_model=start, **SHORT)
    assert model.stats.tobytes() == start.stats.tobytes()
    assert model.params.tobytes() != start.params.tobytes()


def test_the_optimizers_state_comes_back_and_training_resumes_from_it():
    X, y = data()
    model, report = tinytrain.train(X, y, [2, 8, 1], optimizer="adam", **SHORT)
    state = model.optimizer_state()
    batches = -(-report["samples"]["train"] // 16)
    assert state["optimizer"] == "adam"
    assert state["steps"] == report["epochs_run"] * batches
    assert state["values"].dtype == np.float32
    assert state["values"].shape == (2 * len(model.params),)
    assert 0 < state["beta1_power"] < 1 and 0 < state["beta2_power"] < 1
    again, _ = tinytrain.train(X, y, initial_model=model, optimizer="adam", **SHORT)
    # Resumed: the step count goes on (a new optimizer would count from 0).
    assert again.optimizer_state()["steps"] == 2 * state["steps"]
    # Another rule's state is not used: that one starts afresh.
    sgd, _ = tinytrain.train(X, y, initial_model=model, optimizer="sgd", **SHORT)
    assert sgd.optimizer_state()["steps"] == state["steps"]


def test_warm_up_slows_the_first_steps_of_adam_from_bare_weights():
    X, y = data()
    first, _ = tinytrain.train(X, y, [2, 8, 1], optimizer="adam", **SHORT)
    bare = first.with_optimizer_state(None)
    assert bare.optimizer_state() is None
    settings = dict(SHORT, optimizer="adam", max_epochs=1, patience=5)
    warm, _ = tinytrain.train(X, y, initial_model=bare, **settings)
    cold, _ = tinytrain.train(X, y, initial_model=bare, warm_up=False, **settings)
    moved = lambda m: np.abs(m.params - bare.params).max()
    # Ten updates of a 2000-update warm-up take at most 1/200 of the rate's steps.
    assert 0 < moved(warm) < moved(cold) / 20


def test_with_optimizer_state_round_trips_and_checks():
    X, y = data()
    model, _ = tinytrain.train(X, y, [2, 8, 1], optimizer="momentum", **SHORT)
    state = model.optimizer_state()
    copy = tinytrain.Model.initial([2, 8, 1]).with_optimizer_state(state)
    back = copy.optimizer_state()
    assert back["values"].tobytes() == state["values"].tobytes()
    assert (back["optimizer"], back["steps"]) == ("momentum", state["steps"])
    with pytest.raises(tinytrain.ModelError, match="optimizer state"):
        model.with_optimizer_state(dict(state, values=state["values"][:-1]))
    with pytest.raises(tinytrain.ModelError, match="optimizer state"):
        model.with_optimizer_state(dict(state, values=np.full_like(state["values"], np.nan)))
    with pytest.raises(ValueError, match="rmsprop"):
        model.with_optimizer_state(dict(state, optimizer="rmsprop"))
    with pytest.raises(ValueError, match="values"):
        model.with_optimizer_state({"optimizer": "sgd"})
    with pytest.raises(TypeError):
        model.with_optimizer_state(dict(state, values=state["values"].astype(np.float64)))


def test_widths_of_the_initial_model_must_fit():
    X, y = data()
    start = tinytrain.Model.initial([3, 8, 1])
    with pytest.raises(ValueError, match="initial_model.*first width"):
        tinytrain.train(X, y, initial_model=start)
    with pytest.raises(ValueError, match=r"layers 2,4,1 differ from the widths of initial_model, 2,8,1"):
        tinytrain.train(X, y, [2, 4, 1], initial_model=tinytrain.Model.initial([2, 8, 1]))
    with pytest.raises(ValueError, match="layers 2"):
        tinytrain.Model.initial([2])


def test_validation_data_is_the_validation_split():
    X, y = data(240)
    Xv, yv = X[200:], y[200:]
    model, report = tinytrain.train(X[:200], y[:200], [2, 8, 1], validation_data=(Xv, yv), **SHORT)
    assert report["samples"] == {"train": 200, "val": 40, "test": 0}
    assert report["network"]["test_mse"] is None
    assert report["config"]["test_fraction"] == 0
    predicted = model.predict(Xv)[:, 0].astype(np.float64)
    assert report["network"]["val_mse"] == pytest.approx(np.mean((predicted - yv) ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="validation_data replaces"):
        tinytrain.train(X, y, validation_data=(Xv, yv), val_fraction=0.1)
    with pytest.raises(ValueError, match="validation_data has 1 columns"):
        tinytrain.train(X, y, validation_data=(Xv[:, :1].copy(), yv))
    bad = Xv.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"validation_data: .*sample 3"):
        tinytrain.train(X, y, validation_data=(bad, yv))
