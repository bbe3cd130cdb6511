"""``python -m tinytrain_fleet simulate`` — a federation on Flower's simulation engine;
``python -m tinytrain_fleet report`` — federated vs centralised vs each device alone."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .settings import Settings


def settings_from(pairs: list[str], base: Settings) -> Settings:
    """``base`` with ``KEY=VALUE`` run-config overrides."""
    config = base.to_run_config()
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

    settings = settings_from(args.set, Settings(server_test=True, out_dir=str(args.out)))
    started = time.monotonic()
    _, history = simulate(settings, args.devices)
    print()
    print("| round | devices trained | left out | pooled test MSE | seconds |")
    print("| --- | --- | --- | --- | --- |")
    for r in history["rounds"]:
        left = ", ".join(f"{d} ({why})" for d, why in r.get("left-out", [])) or "-"
        print(f"| {r['round']} | {len(r.get('trained', []))} | {left} | "
              f"{r.get('test-loss', float('nan')):.5f} | {r['seconds']:.2f} |")
    t = throughput(history)
    print(f"\n{args.devices} devices, {t['rounds']} rounds in {t['seconds']:.1f} s "
          f"({time.monotonic() - started:.1f} s with the engine's start-up): "
          f"{t['rounds_per_s']:.2f} rounds/s, {t['trainings_per_s']:.1f} client trainings/s")
    print(f"global model: {args.out / 'model.ttm'} (sha256 of weights and statistics "
          f"{history['model-sha256'][:16]}…), history: {args.out / 'history.json'}")
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
    rep = commands.add_parser("report", help="federated vs centralised vs devices alone")
    rep.add_argument("--devices", type=int, default=50)
    rep.add_argument("--seeds", type=int, default=3, help="seeds 1..N (default 3)")
    rep.add_argument("--out", type=Path, default=Path("fleet/report"),
                     help="directory for REPORT.md, the plot and the figures")
    for p in (sim, rep):
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a run config value (see pyproject.toml), e.g. --set num-server-rounds=10")
    args = parser.parse_args(argv)
    return simulate_command(args) if args.command == "simulate" else report_command(args)


if __name__ == "__main__":
    sys.exit(main())
