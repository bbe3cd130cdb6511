"""The emulated board as a device of the fleet: QEMU mps2-an386 running the link firmware,
driven through ``tinytrain device train --model-in``. It trains to the bits of the simulated
device with ``driver = "stream"`` (``tinytrain.Stream(model=…)``) given the same global model,
data and seed; a federation with it in the loop gives the simulated federation's bits; a board
that fails, hangs or sends back a model not the run's is reported and left out.

The tools come from the environment ``cargo xtask test`` sets (see
:class:`tinytrain_fleet.board.BoardTools`)."""

import os
import stat
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinytrain_fleet import data, standardize, stream
from tinytrain_fleet.board import BoardError, BoardTools, board_training
from tinytrain_fleet.client_app import mse, round_seed
from tinytrain_fleet.server_app import initial_model
from tinytrain_fleet.settings import Settings
from tinytrain_fleet.simulate import simulate

SETTINGS = Settings(
    num_server_rounds=2,
    samples=1000,
    fraction_train=1.0,
    fraction_evaluate=0.0,
    learning_rate=0.003,
    driver="stream",
    server_test=True,
)
DEVICES = 4


@pytest.fixture(scope="module")
def tools() -> BoardTools:
    return BoardTools.from_environment()


@pytest.fixture(scope="module")
def fleet() -> data.Fleet:
    return data.fleet(DEVICES, SETTINGS.samples, SETTINGS.split_seed)


def global_start(fleet: data.Fleet):
    """The first round's global model: the seed's weights, the pooled statistics."""
    shares = [standardize.moments(d.X_train, d.y_train) for d in fleet.devices]
    return initial_model(SETTINGS, standardize.combine(shares))


def test_the_board_trains_to_the_bits_of_the_stream_driver_on_the_host(tools, fleet):
    device, start = fleet.devices[1], global_start(fleet)
    seed = round_seed(SETTINGS, device.id, 1)
    on_board, board_report = board_training(SETTINGS, device, start, seed, tools)
    on_host, host_report = stream.stream_training(SETTINGS, device, start, seed)
    assert on_board.widths == on_host.widths == SETTINGS.widths
    assert on_board.params.tobytes() == on_host.params.tobytes()
    assert on_board.stats.tobytes() == start.stats.tobytes()
    # Every epoch's losses, and the reply's metrics, bit for bit.
    epochs = lambda report: [(e["epoch"], e["train_mse"], e["val_mse"]) for e in report["history"]]
    assert epochs(board_report) == epochs(host_report)
    assert len(epochs(board_report)) > 5
    assert stream.metrics(board_report, device) == stream.metrics(host_report, device)
    # It learned from the global model, and from these samples in this order.
    assert on_board.params.tobytes() != start.params.tobytes()
    assert mse(on_board, device.X_val, device.y_val) < mse(start, device.X_val, device.y_val) / 2
    other, _ = stream.stream_training(SETTINGS, device, start, seed + 1)
    assert other.params.tobytes() != on_board.params.tobytes()


def test_a_federation_with_the_board_gives_the_simulated_federations_bits(tools):
    # The federation of simulated stream devices is reproducible (the same bits twice, as the
    # trainer's: test_federation.py); the one with the board gives its bits, round after round.
    model, history = simulate(SETTINGS.but(board=0), DEVICES, board=tools)
    for r in history["rounds"][1:]:
        assert r["trained"] == [0, 1, 2, 3] and r["left-out"] == []
    simulated, simulated_history = simulate(SETTINGS, DEVICES)
    assert model.params.tobytes() == simulated.params.tobytes()
    assert history["model-sha256"] == simulated_history["model-sha256"]
    for r, s in zip(history["rounds"], simulated_history["rounds"], strict=True):
        assert (r.get("train"), r["test-loss"]) == (s.get("train"), s["test-loss"])
    losses = [r["test-loss"] for r in history["rounds"]]
    assert losses[-1] < losses[0] / 5, losses


def fake_cli(tmp_path: Path, body: str) -> BoardTools:
    """Tools whose ``tinytrain`` is a Python script: ``args`` its arguments, then ``body``."""
    script = tmp_path / "tinytrain"
    script.write_text(
        f"#!{sys.executable}\nimport os, subprocess, sys, time\nargs = sys.argv[1:]\n"
        f"def flag(name):\n    return args[args.index(name) + 1]\n{body}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return BoardTools(str(script), "link.elf", "qemu-system-arm")


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_board_that_hangs_is_stopped_with_everything_it_started(tmp_path, fleet):
    # The stand-in starts a child, as tinytrain starts QEMU, and never finishes.
    tools = fake_cli(
        tmp_path,
        "child = subprocess.Popen(['sleep', '600'])\n"
        f"open({str(tmp_path / 'child')!r}, 'w').write(str(child.pid))\ntime.sleep(600)",
    )
    settings = SETTINGS.but(board_timeout=2.0)
    started = time.monotonic()
    with pytest.raises(BoardError, match=r"did not finish within 2 s \(board-timeout\)"):
        board_training(settings, fleet.devices[0], global_start(fleet), 1, tools)
    assert time.monotonic() - started < 30
    child = int((tmp_path / "child").read_text())
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child), "the board's child process was left running"


@pytest.mark.parametrize(
    "body, reason",
    [
        ("open(flag('--model'), 'wb').write(b'not a model')\n"
         "open(flag('--report'), 'w').write('{}')",
         "the board's model or report cannot be read"),
        ("import tinytrain\ntinytrain.Model.initial([9, 8, 1]).save(flag('--model'))\n"
         "open(flag('--report'), 'w').write('{}')",
         r"the board sent back widths \[9, 8, 1\], not \[9, 16, 16, 1\]"),
        ("import tinytrain\ntinytrain.Model.initial([9, 16, 16, 1]).save(flag('--model'))\n"
         "open(flag('--report'), 'w').write('{}')",
         "the board sent back other statistics than the run's"),
        ("print('error: the device refused the model to start from', file=sys.stderr)\n"
         "sys.exit(4)",
         "tinytrain device train failed: error: the device refused the model to start from"),
    ],
)
def test_a_board_whose_answer_is_not_the_runs_model_is_refused(tmp_path, fleet, body, reason):
    tools = fake_cli(tmp_path, body)
    with pytest.raises(BoardError, match=reason):
        board_training(SETTINGS, fleet.devices[0], global_start(fleet), 1, tools)


def test_the_tools_missing_from_the_environment_are_named():
    with pytest.raises(BoardError, match="TINYTRAIN_LINK_ELF, TINYTRAIN_QEMU"):
        BoardTools.from_environment({"TINYTRAIN_CLI": "tinytrain"})
    tools = BoardTools.from_environment(
        {"TINYTRAIN_CLI": "a", "TINYTRAIN_LINK_ELF": "b", "TINYTRAIN_QEMU": "c"}
    )
    assert tools == BoardTools("a", "b", "c", "")
