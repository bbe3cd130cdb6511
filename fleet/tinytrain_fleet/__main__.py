"""``python -m tinytrain_fleet simulate`` — a federation on Flower's simulation engine;
``python -m tinytrain_fleet loopback`` — the same app as a Flower deployment (SuperLink,
SuperNodes) on this machine's loopback interface;
``python -m tinytrain_fleet report`` — federated vs centralised vs each device alone."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .settings import Settings


def settings_from(pairs: list[str], base: Settings, board: int | None = None) -> Settings:
    """``base`` with ``KEY=VALUE`` run-config overrides; with ``board``, that device on the
    emulated board and the others on the stream driver, the board's way (before the
    overrides: ``--set driver=trainer`` mixes the two)."""
    config = base.to_run_config()
    if board is not None:
        config.update({"board": board, "driver": "stream"})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE (a run config key)")
        config[key] = value
    try:
        return Settings.from_run_config(config)
    except ValueError as e:
        raise SystemExit(f"--set: {e}") from None


def simulate_command(args: argparse.Namespace) -> int:
    from .simulate import simulate, throughput

    settings = settings_from(args.set, Settings(server_test=True, out_dir=str(args.out)),
                             args.board)
    started = time.monotonic()
    _, history = simulate(settings, args.devices)
    print()
    print("| round | devices trained | left out | pooled test MSE | seconds |")
    print("| --- | --- | --- | --- | --- |")
    for r in history["rounds"]:
        left = ", ".join(f"{d} ({why})" for d, why in r.get("left-out", [])) or "-"
        trained = str(len(r.get("trained", [])))
        if settings.board in r.get("trained", []):
            trained += f" (device {settings.board} on the board)"
        print(f"| {r['round']} | {trained} | {left} | "
              f"{r.get('test-loss', float('nan')):.5f} | {r['seconds']:.2f} |")
    t = throughput(history)
    print(f"\n{args.devices} devices, {t['rounds']} rounds in {t['seconds']:.1f} s "
          f"({time.monotonic() - started:.1f} s with the engine's start-up): "
          f"{t['rounds_per_s']:.2f} rounds/s, {t['trainings_per_s']:.1f} client trainings/s")
    print(f"global model: {args.out / 'model.ttm'} (sha256 of weights and statistics "
          f"{history['model-sha256'][:16]}…), history: {args.out / 'history.json'}")
    return 0


def loopback_command(args: argparse.Namespace) -> int:
    from .loopback import deploy, free_ports

    settings = settings_from(args.set, Settings(), args.board)
    port = free_ports(args.devices + 1) if args.port is None else args.port
    started = time.monotonic()
    history = deploy(settings, args.devices, args.out, port)
    print(f"{args.devices} SuperNodes, {len(history['rounds']) - 1} rounds in "
          f"{time.monotonic() - started:.1f} s on 127.0.0.1:{port}; global model "
          f"{args.out / 'out' / 'model.ttm'} (sha256 of weights and statistics "
          f"{history['model-sha256'][:16]}…); logs in {args.out}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    from .report import study

    settings = settings_from(args.set, Settings(server_test=True))
    study(settings, args.devices, args.seeds, args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinytrain_fleet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="one federation on Flower's simulation engine")
    sim.add_argument("--devices", type=int, default=50, help="simulated devices (default 50)")
    sim.add_argument("--out", type=Path, default=Path("target/fleet"),
                     help="directory for model.ttm and history.json (default target/fleet)")
    loop = commands.add_parser("loopback", help="a SuperLink and SuperNodes on 127.0.0.1")
    loop.add_argument("--devices", type=int, default=3, help="SuperNodes (default 3)")
    loop.add_argument("--port", type=int, default=None,
                      help="the SuperLink's port; SuperNode K uses the port + 1 + K "
                      "(default: a free block of ports)")
    loop.add_argument("--out", type=Path, default=Path("target/fleet-loopback"),
                      help="directory for the logs, Flower's home and out/model.ttm")
    rep = commands.add_parser("report", help="federated vs centralised vs devices alone")
    rep.add_argument("--devices", type=int, default=50)
    rep.add_argument("--seeds", type=int, default=3, help="seeds 1..N (default 3)")
    rep.add_argument("--out", type=Path, default=Path("fleet/report"),
                     help="directory for REPORT.md, the plot and the figures")
    for p in (sim, loop):
        p.add_argument("--board", type=int, nargs="?", const=0, metavar="K",
                       help="device K (default 0) trains on the emulated board (QEMU "
                       "mps2-an386, the link firmware, `tinytrain device train`), the others "
                       "on the stream driver as the board does; cargo xtask fleet --board "
                       "builds and names the tools")
    for p in (sim, loop, rep):
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a run config value (see pyproject.toml), e.g. --set num-server-rounds=10")
    args = parser.parse_args(argv)
    board = getattr(args, "board", None)
    if board is not None and not 0 <= board < args.devices:
        parser.error(f"--board {board}: a device id, 0 to {args.devices - 1}")
    commands = {"simulate": simulate_command, "loopback": loopback_command,
                "report": report_command}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
