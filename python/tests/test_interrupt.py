"""Ctrl-C in a long training from Python stops it and raises KeyboardInterrupt, as Ctrl-C stops
any Python code: training asks the interpreter's signal handlers between mini-batches."""

import signal
import subprocess
import sys
import textwrap

import pytest

# A training of hours unless stopped: 20,000 samples, a million epochs, no early stop.
SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tinytrain

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (20_000, 2)).astype(np.float32)
    y = np.sin(3 * X[:, 0]).astype(np.float32)
    labels = (X[:, 0] > 0).astype(int)
    print("training", flush=True)
    try:
        if sys.argv[1] == "regression":
            tinytrain.train(X, y, [2, 32, 32, 1], max_epochs=1_000_000, patience=1_000_000)
        else:
            tinytrain.train_classifier(X, labels, [2, 32, 32, 2], max_epochs=1_000_000,
                                       patience=1_000_000)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(3)
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_ctrl_c_stops_a_long_training_with_keyboard_interrupt(task):
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, task], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "training\n"
        try:
            child.wait(timeout=1.0)  # well inside the training by then
        except subprocess.TimeoutExpired:
            pass
        assert child.poll() is None, "the training ended by itself"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)  # the training would run for hours
    finally:
        child.kill()
    assert (child.returncode, out) == (3, "KeyboardInterrupt\n"), err
