"""A federation on Flower's simulation engine, in this process: ``num_supernodes`` virtual
SuperNodes, each running the ClientApp for its device, and the ServerApp beside them; no server
to start. Flower's simulation engine runs the ClientApps in Ray actors (one CPU each)."""

from __future__ import annotations

import os
from pathlib import Path

import tinytrain
from flwr.clientapp import ClientApp

from .client_app import make_client_app
from .server_app import make_server_app
from .settings import Settings

#: The directory that holds the ``tinytrain_fleet`` package: the Ray workers import it.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


def simulate(
    settings: Settings, devices: int, client_app: ClientApp | None = None
) -> tuple[tinytrain.Model, dict]:
    """Runs ``settings`` on ``devices`` simulated devices and returns the global model and the
    history (see :func:`tinytrain_fleet.server_app.run_federation`). ``client_app`` replaces
    the fleet's ClientApp (tests: a faulty device). Raises what stopped the ServerApp."""
    from flwr.simulation import run_simulation

    # Ray's workers are new processes: they find the package through the environment.
    paths = [PACKAGE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    outcome: list = []
    run_simulation(
        server_app=make_server_app(settings, outcome),
        client_app=client_app or make_client_app(settings),
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
