"""The same app as a Flower deployment on the loopback interface: a SuperLink, three
SuperNodes, ``flwr run`` — and the same global model bits as the simulation."""

import socket

from tinytrain_fleet.loopback import deploy, free_ports
from tinytrain_fleet.settings import Settings
from tinytrain_fleet.simulate import simulate

SETTINGS = Settings(
    num_server_rounds=2,
    samples=1200,
    fraction_train=1.0,
    fraction_evaluate=0.0,
    local_epochs=5,
    learning_rate=0.003,
    timeout=120.0,
)
DEVICES = 3


def test_a_deployment_on_loopback_gives_the_simulations_bits(tmp_path):
    deployed = deploy(SETTINGS, DEVICES, tmp_path)
    assert (tmp_path / "out" / "model.ttm").exists()
    assert deployed["devices"] == DEVICES
    for r in deployed["rounds"][1:]:
        assert r["trained"] == [0, 1, 2] and r["left-out"] == []
    _, simulated = simulate(SETTINGS.but(devices=DEVICES), DEVICES)
    assert deployed["statistics"] == simulated["statistics"]
    assert deployed["model-sha256"] == simulated["model-sha256"]


def test_free_ports_skips_a_block_with_a_port_in_use():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        held.listen()
        candidates = [taken - 1, taken - 2, taken + 1, taken + 10, taken + 20]
        first = free_ports(3, candidates=candidates)
    assert first in candidates[2:]
    assert taken not in range(first, first + 3)


def test_free_ports_says_when_no_block_is_free():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        try:
            free_ports(2, candidates=[taken, taken - 1])
        except OSError as e:
            assert "no 2 consecutive free ports" in str(e)
        else:
            raise AssertionError("a block holding a port in use was returned")
