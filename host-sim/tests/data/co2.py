#!/usr/bin/env python3
"""Writes co2.csv: a real recorded signal that drifts, as lagged features for a stream learner.

The signal is the weekly atmospheric CO2 concentration at Mauna Loa, March 1958 to December 2001
(ppm; Scripps Institution of Oceanography, public domain), as the `statsmodels` package ships it
(`statsmodels.datasets.co2`, loaded offline). Missing weeks are filled by linear interpolation
between their neighbours. Each row predicts a week's concentration from the four weeks before
it: columns `lag4,lag3,lag2,lag1,co2`, oldest first, in time order. The level rises by about
1.5 ppm a year, far beyond the range of the first weeks: a model frozen early falls behind.

Run from anywhere; the script makes its own virtual environment (target/venv-data, with the
pinned requirement below) the first time and runs itself there:

    python3 host-sim/tests/data/co2.py          # writes host-sim/tests/data/co2.csv
"""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
VENV = ROOT / "target" / "venv-data"
REQUIREMENT = "statsmodels==0.14.4"
LAGS = 4


def in_venv():
    """Runs this script again inside VENV, creating it first if needed."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", REQUIREMENT], check=True)
    os.execv(str(python), [str(python), str(Path(__file__).resolve())] + sys.argv[1:])


def main():
    try:
        from statsmodels.datasets import co2
    except ImportError:
        in_venv()
        return
    series = co2.load_pandas().data["co2"].interpolate(method="linear")
    values = [float(v) for v in series.to_numpy()]
    rows = []
    for t in range(LAGS, len(values)):
        rows.append(values[t - LAGS:t + 1])
    header = ",".join([f"lag{LAGS - k}" for k in range(LAGS)] + ["co2"])
    out = HERE / "co2.csv"
    with open(out, "w") as f:
        f.write(header + "\n")
        for row in rows:
            f.write(",".join(f"{v:.2f}" for v in row) + "\n")
    print(f"wrote {out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
