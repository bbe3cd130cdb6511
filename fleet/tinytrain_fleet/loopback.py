"""The same app as a real Flower deployment, on this machine's loopback interface: a SuperLink,
one SuperNode per device (each told its ``partition-id``), and ``flwr run`` submitting the app
to the SuperLink — the processes and the HTTP traffic of a fleet of real devices, on one host.

Everything Flower keeps (its configuration naming the SuperLink connection ``loopback``, the
apps it unpacks) lives in ``FLWR_HOME`` under the working directory, never in ``~/.flwr``. The
SuperLink runs with ``--disable-runtime-dependency-installation``: the environment already
holds the app's dependencies (it would otherwise try ``uv sync`` against the registry). Every
process started here runs in its own session and is stopped — with its children, the
SuperExecs and ClientApp processes — when the run ends or fails.

This is the deployment documented in ``fleet/README.md``, scripted: on real devices each
SuperNode runs on its device with TLS and SuperNode authentication instead of ``--insecure``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .settings import Settings

#: The directory of the Flower app (its ``pyproject.toml``): what ``flwr run`` submits.
APP_DIR = Path(__file__).resolve().parents[1]
CONNECTION = "loopback"


def toml_value(value) -> str:
    """A run-config value as ``flwr run --run-config`` reads it (TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the values settings hold
    return repr(value)


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float) -> None:
    """Waits until something listens on ``127.0.0.1:port``; an error with the log's end if
    ``process`` exits first or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{tail(log)}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s:\n{tail(log)}")


#: Where :func:`free_ports` looks for a block: below Linux's ephemeral range (32768–60999), so
#: no outgoing connection takes one of them between the check and the processes' bind.
PORT_RANGE = (20000, 32000)


def free_ports(count: int, candidates=None) -> int:
    """The first port of ``count`` consecutive ports that nothing on ``127.0.0.1`` holds now,
    so that two deployments on one machine (two test runs at once) do not meet. ``candidates``
    are the first ports to try (default: 100 random ones in :data:`PORT_RANGE`); an
    ``OSError`` if none of them starts a free block."""
    if candidates is None:
        candidates = [random.randrange(*PORT_RANGE) for _ in range(100)]
    for first in candidates:
        if all(bindable(port) for port in range(first, first + count)):
            return first
    raise OSError(f"no {count} consecutive free ports on 127.0.0.1 among {len(candidates)} tried")


def bindable(port: int) -> bool:
    """Whether a TCP socket can bind ``127.0.0.1:port`` now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(processes: list[subprocess.Popen]) -> None:
    """Stops each process's session (the process and what it started), politely first."""
    for p in processes:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    for p in processes:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:  # the session's other members (SuperExec, ClientApps) may outlive their parent
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def deploy(settings: Settings, devices: int, workdir: Path, port: int | None = None) -> dict:
    """Runs ``settings`` on a SuperLink at ``127.0.0.1:port`` with ``devices`` SuperNodes (their
    own APIs on the ports after it; ``None``: a free block from :func:`free_ports`); returns the run's history (``workdir/out/history.json``,
    beside ``model.ttm``). Logs in ``workdir``: ``superlink.log``, ``supernode-K.log``,
    ``run.log``."""
    if port is None:
        port = free_ports(devices + 1)
    workdir = workdir.resolve()
    out = workdir / "out"
    home = workdir / "flwr-home"
    for stale in (out, home):
        shutil.rmtree(stale, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
        f'address = "127.0.0.1:{port}"\ninsecure = true\n'
    )
    bindir = Path(sys.executable).parent
    env = dict(os.environ, FLWR_HOME=str(home), FLWR_DISABLE_UPDATE_CHECK="1")
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
    processes: list[subprocess.Popen] = []

    def start(name: str, args: list[str]) -> subprocess.Popen:
        log = workdir / f"{name}.log"
        with open(log, "wb") as f:
            p = subprocess.Popen([str(bindir / args[0]), *args[1:]], stdout=f,
                                 stderr=subprocess.STDOUT, env=env, cwd=workdir,
                                 start_new_session=True)
        processes.append(p)
        return p

    try:
        link = start("superlink", ["flower-superlink", "--insecure",
                                   "--disable-runtime-dependency-installation",
                                   "--host", "127.0.0.1", "--port", str(port)])
        wait_for_port(port, link, workdir / "superlink.log", 60)
        for k in range(devices):
            node = start(f"supernode-{k}", [
                "flower-supernode", "--insecure", "--superlink", f"127.0.0.1:{port}",
                "--port", str(port + 1 + k),
                "--node-config", f"partition-id={k} num-partitions={devices}",
            ])
            wait_for_port(port + 1 + k, node, workdir / f"supernode-{k}.log", 60)
        config = settings.but(devices=devices, out_dir=str(out)).to_run_config()
        overrides = " ".join(f"{k}={toml_value(v)}" for k, v in config.items())
        with open(workdir / "run.log", "wb") as f:
            run = subprocess.run(
                [str(bindir / "flwr"), "run", str(APP_DIR), CONNECTION, "--stream",
                 "--run-config", overrides],
                stdout=f, stderr=subprocess.STDOUT, env=env, cwd=workdir,
                timeout=settings.timeout * (settings.num_server_rounds + 2),
            )
        history = out / "history.json"
        if run.returncode != 0 or not history.exists():
            raise RuntimeError(
                f"flwr run exited with {run.returncode} and no {history}:\n"
                f"{tail(workdir / 'run.log', 40)}"
            )
        return json.loads(history.read_text())
    finally:
        stop(processes)
