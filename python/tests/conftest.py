"""Shared fixtures: the ``tinytrain`` command line to compare with, and small data sets."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    """Runs the ``tinytrain`` command (``$TINYTRAIN_CLI``, else the workspace's debug build)."""
    path = pathlib.Path(os.environ.get("TINYTRAIN_CLI", ROOT / "target" / "debug" / "tinytrain"))
    assert path.is_file(), f"no tinytrain command at {path}: cargo build -p tinytrain-host-sim"

    def run(*args, check=True):
        done = subprocess.run(
            [str(path), *map(str, args)], capture_output=True, text=True, timeout=600
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run


def sine(n=256, seed=0, noise=0.05):
    """``y = sin(3x) + noise`` on ``x`` in [-1, 1]: ``X`` float32 (n, 1), ``y`` float32 (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 1)).astype(np.float32)
    y = (np.sin(3.0 * X[:, 0]) + noise * rng.standard_normal(n)).astype(np.float32)
    return X, y


def write_csv(path, X, y, names=None):
    """Writes ``X`` and ``y`` as CSV with the shortest decimal text of each float32, which
    reads back to the same bits."""
    X = np.asarray(X, dtype=np.float32)
    Y = np.asarray(y, dtype=np.float32).reshape(len(X), -1)
    targets = ["y"] if Y.shape[1] == 1 else [f"y{i}" for i in range(Y.shape[1])]
    names = names or [f"x{i}" for i in range(X.shape[1])] + targets
    text = lambda v: np.format_float_positional(np.float32(v), unique=True, trim="0")
    lines = [",".join(names)]
    for row in np.hstack([X, Y]):
        lines.append(",".join(text(v) for v in row))
    path.write_text("\n".join(lines) + "\n")
    return path
