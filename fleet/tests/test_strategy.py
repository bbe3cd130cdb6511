"""FleetFedAvg: seeded sampling, replies averaged in device order, bad replies left out —
on hand-made messages, without the simulation engine."""

import itertools

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, ConfigRecord, Error, Message, MessageType, MetricRecord, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from tinytrain_fleet.strategy import FleetFedAvg, NoReplyToAggregate

# Node ids are random 64-bit numbers in Flower; devices are 0, 1, 2, …
NODES = {9_001: 0, 7_002: 1, 8_003: 2, 6_004: 3, 5_005: 4}
GLOBAL = ArrayRecord({"0.weight": Array(np.zeros((3, 2), np.float32)), "0.bias": Array(np.zeros(3, np.float32))})


@pytest.fixture(autouse=True)
def identity():
    # Messages are stamped with the identity of the process's task; a simulation sets it.
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, 1, 1


def strategy():
    s = FleetFedAvg(NODES, seed=3, fraction_train=1.0, fraction_evaluate=0.0)
    list(s.configure_train(1, GLOBAL, ConfigRecord({}), grid=None))
    return s


def reply(node, weight=None, bias=None, count=10, error=None):
    rng = np.random.default_rng(node)
    sent = Message(content=RecordDict({}), dst_node_id=node, message_type=MessageType.TRAIN)
    if error:
        return Message(error=Error(code=0, reason=error), reply_to=sent)
    arrays = {
        "0.weight": Array(rng.standard_normal((3, 2)).astype(np.float32) if weight is None else weight),
        "0.bias": Array(rng.standard_normal(3).astype(np.float32) if bias is None else bias),
    }
    content = RecordDict({"arrays": ArrayRecord(arrays), "metrics": MetricRecord({"num-examples": count})})
    return Message(content=content, reply_to=sent)


def bits(record):
    return b"".join(a.numpy().tobytes() for a in record.values())


def test_sampling_is_seeded_by_device_id_and_round():
    s = FleetFedAvg(NODES, seed=3, fraction_train=0.4, fraction_evaluate=0.0)
    rounds = [s.sample(r, 0.4, 2, "train") for r in range(1, 9)]
    assert all(len(nodes) == 2 for nodes in rounds)
    assert len({tuple(n) for n in rounds}) > 1  # not the same devices every round
    again = FleetFedAvg(dict(reversed(list(NODES.items()))), seed=3, fraction_train=0.4, fraction_evaluate=0.0)
    assert [again.sample(r, 0.4, 2, "train") for r in range(1, 9)] == rounds
    other = FleetFedAvg(NODES, seed=4, fraction_train=0.4, fraction_evaluate=0.0)
    assert [other.sample(r, 0.4, 2, "train") for r in range(1, 9)] != rounds
    devices = [[NODES[n] for n in nodes] for nodes in rounds]
    assert all(d == sorted(d) for d in devices)


def test_the_average_is_flowers_weighted_mean_in_device_order_whatever_the_arrival():
    replies = [reply(node, count=10 + i) for i, node in enumerate(NODES)]
    first, _ = strategy().aggregate_train(1, replies)
    for order in itertools.islice(itertools.permutations(replies), 1, 30):
        arrays, _ = strategy().aggregate_train(1, list(order))
        assert bits(arrays) == bits(first)
    counts = np.array([10 + i for i in range(5)], np.float64)
    expected = sum(c * r.content["arrays"]["0.bias"].numpy().astype(np.float64)
                   for c, r in zip(counts, replies)) / counts.sum()
    np.testing.assert_allclose(first["0.bias"].numpy(), expected, rtol=1e-5)


def test_failed_non_finite_and_misshapen_replies_are_left_out_and_said():
    good = [reply(node) for node in (9_001, 7_002)]
    nan = np.zeros((3, 2), np.float32)
    nan[1, 0] = np.nan
    bad = [
        reply(8_003, error="ClientAppException: device on fire"),
        reply(6_004, weight=nan),
        reply(5_005, weight=np.zeros((4, 2), np.float32), bias=np.zeros(4, np.float32)),
    ]
    s = strategy()
    arrays, _ = s.aggregate_train(1, bad + good)
    assert bits(arrays) == bits(strategy().aggregate_train(1, good)[0])
    reasons = dict(s.left_out[1])
    assert set(reasons) == {2, 3, 4}
    assert "device on fire" in reasons[2]
    assert reasons[3] == "non-finite weights (array '0.weight')"
    assert reasons[4] == "array '0.weight' has shape (4, 2), the global model's (3, 2) (other widths)"


def test_a_zero_count_is_left_out():
    s = strategy()
    s.aggregate_train(1, [reply(9_001), reply(7_002, count=0)])
    assert "num-examples is 0" in dict(s.left_out[1])[1]


def test_a_round_without_any_good_reply_stops_the_run():
    with pytest.raises(NoReplyToAggregate, match="device 2: failed: .*boom"):
        strategy().aggregate_train(1, [reply(8_003, error="boom")])
