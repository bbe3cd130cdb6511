"""The emulated board as a device of the fleet.

The device ``board`` of a run trains on the emulated board — QEMU ``mps2-an386`` (Cortex-M4F)
running tinytrain's link firmware — through ``tinytrain device train``: in each round it takes
part in, its ClientApp writes the global model (weights and the run's statistics) and its
training split, in the round's arrival order (:func:`tinytrain_fleet.stream.arrivals`), to a
temporary directory, and runs

    tinytrain device train --data round.csv --target log10_price --model-in global.ttm
        --model trained.ttm --report report.json --optimizer … --lr … --batch … --seed …
        --replay … --every … --steps-per … --patience … --elf LINK --qemu QEMU

which starts QEMU on the firmware, uploads the global model through the device link as the
device's starting point, streams the samples to it, lets it learn with the core's stream driver
and downloads its checkpoint. The ClientApp replies with those weights and the device's sample
count, as any other device: the server averages them with the rest. The board gives the bits of
a simulated device with ``driver = "stream"`` given the same global model, data and seed
(tested: ``tests/test_board.py``).

Where the programs are comes from the environment of the process that runs the ClientApp
(``cargo xtask fleet --board`` sets it; a SuperNode on the board's companion computer sets it
itself): ``TINYTRAIN_CLI`` (the ``tinytrain`` command), ``TINYTRAIN_LINK_ELF`` (the link
firmware: ``cargo xtask link-firmware`` builds it and prints its path), ``TINYTRAIN_QEMU``
(``qemu-system-arm``) and, optionally, ``TINYTRAIN_QEMU_LIBRARY_PATH`` (the libraries of a
QEMU unpacked outside the system's directories, as ``cargo xtask setup`` does).

Anything that goes wrong — QEMU that does not start, a link that breaks, a device that refuses
the model, a run longer than ``board-timeout`` seconds (stopped: ``tinytrain`` and the QEMU it
started are killed), a model back that does not load or is not the run's — raises
:class:`BoardError` with the reason; Flower reports it to the server, which leaves the device
out of the round.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import tinytrain

from . import data, stream
from .settings import Settings

#: ``tinytrain device train``'s flag for each keyword of :func:`stream.stream_settings`.
FLAGS = {
    "optimizer": "--optimizer",
    "learning_rate": "--lr",
    "batch_size": "--batch",
    "patience": "--patience",
    "seed": "--seed",
    "replay": "--replay",
    "every": "--every",
    "steps_per": "--steps-per",
}

#: The environment variables :meth:`BoardTools.from_environment` reads.
VARIABLES = {
    "cli": "TINYTRAIN_CLI",
    "elf": "TINYTRAIN_LINK_ELF",
    "qemu": "TINYTRAIN_QEMU",
    "library_path": "TINYTRAIN_QEMU_LIBRARY_PATH",
}


class BoardError(RuntimeError):
    """The emulated board's round failed; the message says why."""


@dataclass(frozen=True)
class BoardTools:
    """The programs that run the emulated board."""

    #: The ``tinytrain`` command.
    cli: str
    #: The link firmware for ``mps2-an386``.
    elf: str
    #: ``qemu-system-arm``.
    qemu: str
    #: ``LD_LIBRARY_PATH`` for QEMU and ``tinytrain`` (``""``: the system's libraries).
    library_path: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "BoardTools":
        """The tools named by :data:`VARIABLES`; :class:`BoardError` naming any missing."""
        missing = [v for k, v in VARIABLES.items() if k != "library_path" and not environ.get(v)]
        if missing:
            raise BoardError(
                f"the emulated board needs {', '.join(missing)} in the environment (the "
                "tinytrain command, the link firmware, qemu-system-arm): `cargo xtask fleet "
                "--board` sets them"
            )
        return cls(**{k: environ.get(v, "") for k, v in VARIABLES.items()})


def device_flags(settings: Settings, seed: int) -> list[str]:
    """The flags of ``tinytrain device train`` that make the board's stream the one
    ``tinytrain.Stream(**stream.stream_settings(settings, seed))`` runs."""
    flags = []
    for key, value in stream.stream_settings(settings, seed).items():
        flags += [FLAGS[key], str(value)]
    return flags


def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    """The samples as the CSV ``device train`` reads, in order: a header, then float32 values
    written with 9 significant digits (enough to read back every float32 exactly)."""
    header = ",".join((*data.FEATURES, data.TARGET))
    np.savetxt(path, np.column_stack([X, y]), fmt="%.9g", delimiter=",", header=header,
               comments="")


def run(command: list[str], env: dict[str, str], timeout: float) -> str:
    """Runs ``command`` in a session of its own and returns its standard output. Whatever
    happens, nothing it started is left running: the whole session (``tinytrain`` and its
    QEMU) is killed once it has ended or run out of time. :class:`BoardError` with the end of
    its error output if it fails, or when ``timeout`` seconds pass."""
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env, start_new_session=True)
    except OSError as e:
        raise BoardError(f"cannot run {command[0]}: {e}") from None
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_session(process.pid)
        process.communicate()
        raise BoardError(
            f"the emulated board did not finish within {timeout:g} s (board-timeout): "
            "stopped, QEMU with it"
        ) from None
    finally:
        kill_session(process.pid)
    if process.returncode != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        reason = " / ".join(lines[-3:]) or f"exit status {process.returncode}"
        raise BoardError(f"tinytrain device train failed: {reason}")
    return out


def kill_session(pid: int) -> None:
    """Kills every process left in the session led by ``pid`` (one this module started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def board_training(
    settings: Settings,
    device: data.Device,
    start: tinytrain.Model,
    seed: int,
    tools: BoardTools,
) -> tuple[tinytrain.Model, dict]:
    """A round of ``device`` on the emulated board from ``start``: the board's checkpoint
    (weights and the run's statistics) and its ``device train --report``."""
    with tempfile.TemporaryDirectory(prefix="tinytrain-board-") as tmp:
        tmp = Path(tmp)
        start.save(tmp / "global.ttm")
        write_csv(tmp / "round.csv", *stream.arrivals(device, seed))
        command = [
            tools.cli, "device", "train",
            "--data", str(tmp / "round.csv"), "--target", data.TARGET,
            "--model-in", str(tmp / "global.ttm"),
            "--model", str(tmp / "trained.ttm"), "--report", str(tmp / "report.json"),
            *device_flags(settings, seed),
            "--elf", tools.elf, "--qemu", tools.qemu,
        ]  # fmt: skip
        env = dict(os.environ)
        if tools.library_path:
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                filter(None, [tools.library_path, env.get("LD_LIBRARY_PATH")]))
        run(command, env, settings.board_timeout)
        try:
            model = tinytrain.Model.load(tmp / "trained.ttm")
            report = json.loads((tmp / "report.json").read_text())
        except (OSError, ValueError) as e:
            raise BoardError(f"the board's model or report cannot be read: {e}") from None
    if model.widths != start.widths:
        raise BoardError(f"the board sent back widths {model.widths}, not {start.widths}")
    if model.stats.tobytes() != start.stats.tobytes():
        raise BoardError("the board sent back other statistics than the run's")
    return model, report
