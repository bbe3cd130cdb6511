"""tinytrain.Stream: the stream learner of ``tinytrain train --stream``, sample by sample, bit
for bit with the command line; its epochs and events; fine-tuning; bad input."""

import json

import numpy as np
import pytest

import tinytrain
from conftest import write_csv

SETTINGS = dict(
    optimizer="adam",
    learning_rate=0.01,
    batch_size=16,
    patience=10,
    seed=3,
    replay=64,
    replay_policy="window",
    holdout_every=5,
    validation_window=32,
    test_every=7,
    test_window=32,
    warmup=32,
    every=2,
    steps_per=1,
    drift_factor=3.0,
    drift_epochs=3,
)


def cli_args(layers, s):
    flags = {
        "--layers": ",".join(map(str, layers)),
        "--optimizer": s["optimizer"],
        "--lr": s["learning_rate"],
        "--batch": s["batch_size"],
        "--patience": s["patience"],
        "--seed": s["seed"],
        "--replay": s["replay"],
        "--replay-policy": s["replay_policy"],
        "--holdout-every": s["holdout_every"],
        "--validation-window": s["validation_window"],
        "--test-every": s["test_every"],
        "--test-window": s["test_window"],
        "--warmup": s["warmup"],
        "--every": s["every"],
        "--steps-per": s["steps_per"],
        "--drift-factor": s["drift_factor"],
        "--drift-epochs": s["drift_epochs"],
    }
    return ["--stream"] + [str(v) for kv in flags.items() for v in kv]


def sensor(n=3000, change=1500, seed=0):
    """A sensor whose response changes at ``change``: ``y = sin(3x)``, then ``1 - 2 sin(3x)``;
    ``X`` float32 (n, 1), ``y`` float32 (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 1)).astype(np.float32)
    s = np.sin(3.0 * X[:, 0])
    y = np.where(np.arange(n) < change, s, 1.0 - 2.0 * s) + 0.05 * rng.standard_normal(n)
    return X, y.astype(np.float32)


def test_same_bits_and_report_as_the_command_line(cli, tmp_path):
    X, y = sensor()
    layers = [1, 16, 16, 1]
    data = write_csv(tmp_path / "sensor.csv", X, y)
    cli("train", "--data", data, *cli_args(layers, SETTINGS),
        "--model", tmp_path / "cli.ttm", "--report", tmp_path / "cli.json")

    stream = tinytrain.Stream(layers, **SETTINGS)
    epochs = stream.feed(X, y)
    model, test_mse = stream.finish()

    from_cli = tinytrain.Model.load(tmp_path / "cli.ttm")
    assert model.params.tobytes() == from_cli.params.tobytes()
    assert model.stats.tobytes() == from_cli.stats.tobytes()
    expected = json.loads((tmp_path / "cli.json").read_text())
    report = stream.report()
    assert report.keys() == expected.keys()
    assert report["data"] == "numpy arrays"
    for key in ("data",):
        del report[key], expected[key]
    expected["config"]["model_in"] = None
    assert report == expected
    assert test_mse == expected["test_mse"]
    # Every epoch ended during the feed, with its events, as in the report.
    assert [{k: v for k, v in e.items() if k != "events"} for e in epochs] == expected["history"]
    assert [ev for e in epochs for ev in e["events"]] == expected["events"]
    kinds = [ev["kind"] for ev in expected["events"]]
    assert "drift" in kinds, kinds


def test_push_and_step_give_the_feeds_bits():
    X, y = sensor(900, 450)
    fed = tinytrain.Stream([1, 8, 1], **SETTINGS)
    fed.feed(X, y)
    one = tinytrain.Stream([1, 8, 1], **SETTINGS)
    routes, epochs, steps = [], [], 0
    for xi, yi in zip(X, y):
        routes.append(one.push(xi, yi[None]))
        while (done := one.step()) is not False:
            steps += 1
            if isinstance(done, dict):
                epochs.append(done)
    assert one.model.params.tobytes() == fed.model.params.tobytes()
    assert one.report() == fed.report()
    assert len(epochs) == one.epochs == fed.epochs > 0
    assert one.arrivals == 900
    # Every fifth arrival (1-based) is held out; every seventh that is not goes to the test window.
    assert routes[4] == routes[9] == "validation" and routes[6] == "test"
    assert routes.count("validation") == 900 // 5
    # With a step every 2 arrivals after the warm-up of 32.
    assert steps == (900 - 32) // 2


def test_the_stream_tracks_a_drift_that_a_model_frozen_before_it_misses():
    X, y = sensor()
    # The validation window turns over in 20 epochs (32 held-out samples, one in 5 arrivals, 8
    # arrivals an epoch), twice the patience: early stopping after the drift must compare the
    # checkpoint and the new weights on the same window.
    stream = tinytrain.Stream([1, 16, 16, 1], **SETTINGS)
    stream.feed(X[:1500], y[:1500])
    frozen = stream.model
    events = stream.feed(X[1500:], y[1500:])
    assert stream.drifts >= 1
    assert any(ev["kind"] == "drift" for e in events for ev in e["events"])
    tracked, _ = stream.finish()
    after = slice(2500, 3000)
    mse = lambda m: float(np.mean((m.predict(X[after])[:, 0] - y[after]) ** 2))
    assert mse(tracked) * 10 < mse(frozen), (mse(tracked), mse(frozen))


def test_fine_tuning_the_last_layer_keeps_the_others():
    X, y = sensor(1200, 10_000)
    first = tinytrain.Stream([1, 16, 16, 1], **SETTINGS)
    first.feed(X[:600], y[:600])
    base, _ = first.finish()
    tuned = tinytrain.Stream(model=base, trainable_from=2, **SETTINGS)
    assert tuned.widths == [1, 16, 16, 1]
    tuned.feed(X[600:], y[600:])
    model, _ = tuned.finish()
    frozen = 2 * 16 + 16 * 16 + 16  # layers 0 and 1: weights and biases
    assert model.params[:frozen].tobytes() == base.params[:frozen].tobytes()
    assert model.params[frozen:].tobytes() != base.params[frozen:].tobytes()
    assert model.stats.tobytes() == base.stats.tobytes()
    assert tuned.report()["config"]["trainable_from"] == 2


def test_bad_samples_are_refused_and_not_counted():
    stream = tinytrain.Stream([2, 4, 1])
    stream.push(np.zeros(2, np.float32), np.zeros(1, np.float32))
    with pytest.raises(tinytrain.DataError) as e:
        stream.push(np.array([0.0, np.nan], np.float32), np.zeros(1, np.float32))
    assert (e.value.sample, e.value.field, e.value.index) == (1, "input", 1)
    with pytest.raises(TypeError, match="float32"):
        stream.push(np.zeros(2), np.zeros(1, np.float32))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        stream.push(np.zeros(3, np.float32), np.zeros(1, np.float32))
    X = np.zeros((5, 2), np.float32)
    y = np.zeros(5, np.float32)
    y[3] = np.inf
    with pytest.raises(tinytrain.DataError) as e:
        stream.feed(X, y)
    assert (e.value.sample, e.value.field) == (3, "target")
    assert stream.arrivals == 1


@pytest.mark.parametrize(
    "settings, name",
    [
        (dict(replay=0), "replay"),
        (dict(holdout_every=1), "holdout_every"),
        (dict(steps_per=0), "steps_per"),
        (dict(trainable_from=2), "trainable_from"),
        (dict(replay_policy="fifo"), "replay_policy"),
        (dict(optimizer="lbfgs"), "optimizer"),
        (dict(batch_size=129), "batch_size"),
        (dict(replay=10**11), "replay 100000000000"),
    ],
)
def test_bad_settings_are_value_errors_naming_the_setting(settings, name):
    with pytest.raises(ValueError, match=name):
        tinytrain.Stream([2, 4, 1], **settings)


def test_a_finished_stream_takes_nothing_more():
    X, y = sensor(200)
    stream = tinytrain.Stream([1, 4, 1])
    stream.feed(X, y)
    model, test_mse = stream.finish()
    assert test_mse is None
    assert stream.finish()[0] == model == stream.model
    with pytest.raises(RuntimeError, match="finished"):
        stream.push(X[0], y[:1])
    assert stream.report()["arrivals"] == 200


def test_a_models_update_rule_learning_rate_and_batch_are_the_defaults(cli, tmp_path):
    X, y = sensor(900, 10_000)
    base, _ = tinytrain.train(
        X[:300], y[:300], [1, 8, 1], optimizer="momentum", learning_rate=0.003, batch_size=8,
        max_epochs=5,
    )
    base.save(tmp_path / "base.ttm")
    data = write_csv(tmp_path / "more.csv", X[300:], y[300:])
    cli("train", "--data", data, "--stream", "--model-in", tmp_path / "base.ttm",
        "--model", tmp_path / "cli.ttm", "--report", tmp_path / "cli.json")

    stream = tinytrain.Stream(model=base)
    stream.feed(X[300:], y[300:])
    model, _ = stream.finish()

    config = stream.report()["config"]
    assert (config["optimizer"], config["learning_rate"], config["batch_size"]) == (
        "momentum", pytest.approx(0.003), 8)
    assert model.params.tobytes() == tinytrain.Model.load(tmp_path / "cli.ttm").params.tobytes()
    expected = json.loads((tmp_path / "cli.json").read_text())["config"]
    assert {k: config[k] for k in ("optimizer", "learning_rate", "batch_size")} == {
        k: expected[k] for k in ("optimizer", "learning_rate", "batch_size")}
    given = tinytrain.Stream(model=base, optimizer="sgd", learning_rate=0.02, batch_size=4)
    assert [given.report()["config"][k] for k in ("optimizer", "learning_rate", "batch_size")] == [
        "sgd", pytest.approx(0.02), 4]
    bare = tinytrain.Stream(model=tinytrain.Model.from_state_dict(base.state_dict()))
    assert [bare.report()["config"][k] for k in ("optimizer", "learning_rate", "batch_size")] == [
        "sgd", pytest.approx(0.01), 16]
