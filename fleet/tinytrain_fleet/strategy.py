"""Flower's ``FedAvg``, made reproducible and careful about what it averages.

The averaging is Flower's own (``FedAvg.aggregate_train``: the weighted mean of the replies'
arrays, weights ``num-examples``). Around it, this subclass only decides *which* devices train
and *which* replies go in, and in what order:

- **seeded sampling** — the devices of a round are drawn by ``random.Random`` seeded with the
  run's seed, the round and the purpose, from the devices' ids (not Flower's node ids, which
  are random per run); ``FedAvg``'s own draw uses the global ``random`` module;
- **a fixed order** — replies are averaged sorted by device id, not in order of arrival
  (floating-point addition is not associative: another order gives other bits);
- **bad replies left out, and said** — a device that failed (Flower's error reply: the
  ClientApp raised, crashed or timed out), or whose weights are not finite, or whose arrays
  are not the global model's (other names or shapes: other widths), is logged with its reason,
  kept in :attr:`FleetFedAvg.left_out`, and left out of the round. A round in which no reply
  can be averaged stops the run with an error naming every reason.
"""

from __future__ import annotations

import random
from logging import WARNING
from typing import Iterable, Mapping

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord, RecordDict
from flwr.common.logger import log
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg


class NoReplyToAggregate(RuntimeError):
    """Every reply of a training round was left out."""


class FleetFedAvg(FedAvg):
    """``FedAvg`` over devices known by id: ``devices`` maps each Flower node id to its
    device id (``partition-id``, learned in the standardisation round)."""

    def __init__(
        self,
        devices: Mapping[int, int],
        seed: int,
        fraction_train: float,
        fraction_evaluate: float,
    ) -> None:
        n = len(devices)
        super().__init__(
            fraction_train=fraction_train,
            fraction_evaluate=fraction_evaluate,
            min_train_nodes=min(2, n),
            min_evaluate_nodes=min(2, n) if fraction_evaluate > 0 else 0,
            min_available_nodes=n,
        )
        self.devices = dict(devices)
        self.seed = seed
        #: Per round, the devices left out and why: ``{round: [(device, reason), …]}``.
        self.left_out: dict[int, list[tuple[int, str]]] = {}
        self._global: ArrayRecord | None = None

    def sample(self, server_round: int, fraction: float, minimum: int, purpose: str) -> list[int]:
        """The node ids of the devices chosen for ``purpose`` (``train``, ``evaluate``) in a
        round: ``max(fraction · devices, minimum)`` of them, sorted by device id."""
        ids = sorted(self.devices.values())
        k = min(len(ids), max(int(len(ids) * fraction), minimum))
        chosen = sorted(random.Random(f"{self.seed}/{purpose}/{server_round}").sample(ids, k))
        node_of = {device: node for node, device in self.devices.items()}
        return [node_of[d] for d in chosen]

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        self._global = arrays
        nodes = self.sample(server_round, self.fraction_train, self.min_train_nodes, "train")
        config["server-round"] = server_round
        record = RecordDict({self.arrayrecord_key: arrays, self.configrecord_key: config})
        return self._construct_messages(record, nodes, MessageType.TRAIN)

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        if self.fraction_evaluate == 0.0:
            return []
        nodes = self.sample(
            server_round, self.fraction_evaluate, self.min_evaluate_nodes, "evaluate"
        )
        config["server-round"] = server_round
        record = RecordDict({self.arrayrecord_key: arrays, self.configrecord_key: config})
        return self._construct_messages(record, nodes, MessageType.EVALUATE)

    def device_of(self, msg: Message) -> int:
        """The device id of a reply's sender (-1 for a node not seen in the first round)."""
        return self.devices.get(msg.metadata.src_node_id, -1)

    def leave_out(self, server_round: int, device: int, reason: str) -> None:
        """Logs and keeps why a device's reply is not aggregated."""
        log(WARNING, "round %s: device %s left out: %s", server_round, device, reason)
        self.left_out.setdefault(server_round, []).append((device, reason))

    def fault(self, content: RecordDict) -> str | None:
        """Why a training reply cannot be averaged with the global model, or ``None``."""
        records = list(content.array_records.values())
        if len(records) != 1 or len(content.metric_records) != 1:
            return "a reply holds one ArrayRecord and one MetricRecord"
        metrics = next(iter(content.metric_records.values()))
        count = metrics.get(self.weighted_by_key)
        if not isinstance(count, (int, float)) or not np.isfinite(count) or count <= 0:
            return f"{self.weighted_by_key} is {count!r}, not a positive count"
        reply, expected = records[0], self._global
        if expected is not None and list(reply.keys()) != list(expected.keys()):
            return f"arrays {list(reply.keys())}, the global model's are {list(expected.keys())}"
        for key, array in reply.items():
            if expected is not None and tuple(array.shape) != tuple(expected[key].shape):
                return (
                    f"array {key!r} has shape {tuple(array.shape)}, the global model's "
                    f"{tuple(expected[key].shape)} (other widths)"
                )
            values = array.numpy()
            if values.dtype != np.float32:
                return f"array {key!r} is {values.dtype}, not float32"
            if not np.isfinite(values).all():
                return f"non-finite weights (array {key!r})"
        return None

    def kept(self, server_round: int, replies: Iterable[Message], train: bool) -> list[Message]:
        """The replies that can be aggregated, sorted by device id; the others left out."""
        good = []
        for msg in replies:
            device = self.device_of(msg)
            if msg.has_error():
                self.leave_out(server_round, device, f"failed: {msg.error.reason}")
                continue
            reason = self.fault(msg.content) if train else None
            if reason is not None:
                self.leave_out(server_round, device, reason)
                continue
            good.append((device, msg))
        return [msg for _, msg in sorted(good, key=lambda pair: pair[0])]

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        good = self.kept(server_round, replies, train=True)
        if not good:
            reasons = "; ".join(f"device {d}: {r}" for d, r in self.left_out.get(server_round, []))
            raise NoReplyToAggregate(
                f"round {server_round}: no device's reply can be averaged ({reasons or 'none came'})"
            )
        return super().aggregate_train(server_round, good)

    def aggregate_evaluate(
        self, server_round: int, replies: Iterable[Message]
    ) -> MetricRecord | None:
        return super().aggregate_evaluate(server_round, self.kept(server_round, replies, False))
