"""A federation on Flower's simulation engine, in this process: ``num_supernodes`` virtual
SuperNodes, each running the ClientApp for its device, and the ServerApp beside them; no server
to start. Flower's simulation engine runs the ClientApps in Ray actors (one CPU each)."""

from __future__ import annotations

import os
from pathlib import Path

import tinytrain
from flwr.clientapp import ClientApp

from .board import BoardTools
from .client_app import make_client_app
from .server_app import make_server_app
from .settings import Settings

#: The directory that holds the ``tinytrain_fleet`` package: the Ray workers import it.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


def simulate(
    settings: Settings,
    devices: int,
    client_app: ClientApp | None = None,
    board: BoardTools | None = None,
) -> tuple[tinytrain.Model, dict]:
    """Runs ``settings`` on ``devices`` simulated devices and returns the global model and the
    history (see :func:`tinytrain_fleet.server_app.run_federation`). ``client_app`` replaces
    the fleet's ClientApp (tests: a faulty device); ``board`` runs the emulated board of
    ``settings.board`` (``None``: the tools the environment names). Raises what stopped the
    ServerApp."""
    from flwr.simulation import run_simulation

    # Ray's workers are new processes: they find the package through the environment.
    paths = [PACKAGE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    # Ray's notice about accelerators it would hide: there are none.
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    outcome: list = []
    run_simulation(
        server_app=make_server_app(settings, outcome),
        client_app=client_app or make_client_app(settings, board),
        num_supernodes=devices,
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"num_cpus": os.cpu_count() or 1, "logging_level": "warning"},
        },
    )
    if not outcome:
        raise RuntimeError("the simulation ended before the ServerApp did")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def throughput(history: dict) -> dict[str, float]:
    """Rounds per second and client trainings per second of a run's rounds (from the end of
    the statistics round to the end of the last round: the simulation's start-up — Ray, the
    actors' imports, the data — is left out), with the number of trainings."""
    rounds = [r for r in history["rounds"] if r["round"] > 0]
    seconds = sum(r["seconds"] for r in rounds)
    trainings = sum(len(r["trained"]) - len(r["left-out"]) for r in rounds)
    return {
        "rounds": len(rounds),
        "trainings": trainings,
        "seconds": seconds,
        "rounds_per_s": len(rounds) / seconds,
        "trainings_per_s": trainings / seconds,
    }
