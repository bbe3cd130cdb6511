"""The ClientApp: one simulated device of the fleet.

A device holds its own region of the data (:mod:`tinytrain_fleet.data`, chosen by the
SuperNode's ``partition-id``) and answers three kinds of message:

- ``query`` — its share of the standardisation statistics (:mod:`tinytrain_fleet.standardize`);
- ``train`` — ``local-epochs`` epochs of ``tinytrain``'s trainer (the device's arithmetic, bit
  for bit) from the global weights, with the run's fixed statistics and its own optimizer's
  moments, kept between rounds in the ClientApp's ``Context.state``; it replies with the
  weights — the best of those epochs on its validation split, or the global ones if none beats
  them — and its count of training samples (``num-examples``, FedAvg's weight). With
  ``driver = "stream"`` it trains the way the emulated board does instead
  (:mod:`tinytrain_fleet.stream`), and the device ``board`` trains on the emulated board
  itself (:mod:`tinytrain_fleet.board`);
- ``evaluate`` — the global model's MSE on its validation split (``val-loss``, in the
  target's units: (log10 US$)²).

A global model whose widths differ from the device's is refused with a ``ValueError`` naming
both (Flower reports it to the server, which leaves the device out of the round).
"""

from __future__ import annotations

import numpy as np
import tinytrain
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from . import data, standardize, stream, weights
from .board import BoardTools, board_training
from .settings import Settings

#: The keys of the device's optimizer state in ``Context.state``.
STATE_ARRAYS = "optimizer-moments"
STATE_CONFIG = "optimizer-powers"


def device_of(context: Context, settings: Settings) -> data.Device:
    """This SuperNode's device."""
    k = int(context.node_config["partition-id"])
    n = int(context.node_config["num-partitions"])
    return data.fleet(n, settings.samples, settings.split_seed).devices[k]


def global_model(msg: Message, settings: Settings) -> tinytrain.Model:
    """The global model of a train or evaluate message: its weights, the run's statistics."""
    config = msg.content["config"]
    stats = {key: np.asarray(config[key], dtype=np.float32) for key in weights.STATS}
    return weights.to_model(msg.content["arrays"], stats, settings.widths)


def kept_state(context: Context) -> dict | None:
    """The optimizer's state this device kept after its last round, if any."""
    if STATE_ARRAYS not in context.state:
        return None
    powers = context.state[STATE_CONFIG]
    return {
        "optimizer": powers["optimizer"],
        "steps": powers["steps"],
        "beta1_power": powers["beta1-power"],
        "beta2_power": powers["beta2-power"],
        "values": context.state[STATE_ARRAYS]["values"].numpy(),
    }


def keep_state(context: Context, state: dict) -> None:
    """Keeps the optimizer's state in the ClientApp's context for the device's next round."""
    context.state[STATE_ARRAYS] = ArrayRecord({"values": Array(state["values"])})
    context.state[STATE_CONFIG] = ConfigRecord(
        {
            "optimizer": state["optimizer"],
            "steps": int(state["steps"]),
            "beta1-power": float(state["beta1_power"]),
            "beta2-power": float(state["beta2_power"]),
        }
    )


def round_seed(settings: Settings, device: int, server_round: int) -> int:
    """The seed of a device's shuffles in a round: distinct per run seed, device and round."""
    return (settings.seed * 1_000_003 + device) * 10_007 + server_round


def local_training(
    settings: Settings, device: data.Device, start: tinytrain.Model, seed: int
) -> tuple[tinytrain.Model, dict]:
    """``local-epochs`` epochs of tinytrain's trainer on the device's training split from
    ``start`` (weights, statistics, optimizer state), watching its validation split."""
    epochs = settings.local_epochs
    return tinytrain.train(
        device.X_train,
        device.y_train,
        initial_model=start,
        validation_data=(device.X_val, device.y_val),
        optimizer=settings.optimizer,
        learning_rate=settings.learning_rate,
        batch_size=settings.batch_size,
        max_epochs=epochs,
        patience=epochs,
        seed=seed,
        warm_up=False,
    )


def mse(model: tinytrain.Model, X: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of the model's (device's) predictions, summed in float64."""
    errors = model.predict(X)[:, 0].astype(np.float64) - y
    return float(np.mean(errors * errors))


def answer_query(msg: Message, context: Context, settings: Settings) -> Message:
    """The device's share of the statistics, and its id."""
    device = device_of(context, settings)
    share = standardize.moments(device.X_train, device.y_train)
    share["partition-id"] = float(device.id)
    return Message(content=RecordDict({"moments": MetricRecord(share)}), reply_to=msg)


def answer_train(
    msg: Message, context: Context, settings: Settings, board: BoardTools | None = None
) -> Message:
    """Local training from the global model; the weights and ``num-examples`` back. The
    device ``settings.board`` trains on the emulated board run by ``board`` (``None``: the
    tools the environment names)."""
    device = device_of(context, settings)
    start = global_model(msg, settings)
    server_round = int(msg.content["config"]["server-round"])
    seed = round_seed(settings, device.id, server_round)
    if device.id == settings.board:
        tools = board or BoardTools.from_environment()
        model, report = board_training(settings, device, start, seed, tools)
        metrics = stream.metrics(report, device)
    elif settings.driver == "stream":
        model, report = stream.stream_training(settings, device, start, seed)
        metrics = stream.metrics(report, device)
    else:
        start = start.with_optimizer_state(kept_state(context))
        model, report = local_training(settings, device, start, seed)
        keep_state(context, model.optimizer_state())
        metrics = {
            "num-examples": len(device.y_train),
            "train-loss": float(report["network"]["train_mse"]),
            "val-loss": float(report["network"]["val_mse"]),
        }
    content = RecordDict({"arrays": weights.to_record(model), "metrics": MetricRecord(metrics)})
    return Message(content=content, reply_to=msg)


def answer_evaluate(msg: Message, context: Context, settings: Settings) -> Message:
    """The global model's loss on the device's validation split."""
    device = device_of(context, settings)
    loss = mse(global_model(msg, settings), device.X_val, device.y_val)
    metrics = {"num-examples": len(device.y_val), "val-loss": loss}
    return Message(content=RecordDict({"metrics": MetricRecord(metrics)}), reply_to=msg)


def make_client_app(
    settings: Settings | None = None, board: BoardTools | None = None
) -> ClientApp:
    """The ClientApp, with fixed ``settings`` or (``None``) those of Flower's run config; the
    emulated board's tools ``board``, or (``None``) those the environment names."""
    app = ClientApp()

    def settings_of(context: Context) -> Settings:
        return settings or Settings.from_run_config(context.run_config)

    @app.query()
    def query(msg: Message, context: Context) -> Message:
        return answer_query(msg, context, settings_of(context))

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        return answer_train(msg, context, settings_of(context), board)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        return answer_evaluate(msg, context, settings_of(context))

    return app


#: The ClientApp of ``pyproject.toml`` (``flwr run``, SuperNodes): settings from the run config.
app = make_client_app()
