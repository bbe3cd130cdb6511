"""The same app as a Flower deployment on the loopback interface: a SuperLink, three
SuperNodes, ``flwr run`` — and the same global model bits as the simulation."""

from tinytrain_fleet.loopback import deploy
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
    deployed = deploy(SETTINGS, DEVICES, tmp_path, port=39400)
    assert (tmp_path / "out" / "model.ttm").exists()
    assert deployed["devices"] == DEVICES
    for r in deployed["rounds"][1:]:
        assert r["trained"] == [0, 1, 2] and r["left-out"] == []
    _, simulated = simulate(SETTINGS.but(devices=DEVICES), DEVICES)
    assert deployed["statistics"] == simulated["statistics"]
    assert deployed["model-sha256"] == simulated["model-sha256"]
