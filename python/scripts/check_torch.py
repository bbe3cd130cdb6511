"""Checks tinytrain's safetensors layout against real PyTorch, both ways.

Not run in CI (PyTorch's wheel is several GB); run it by hand in an environment with tinytrain
and torch installed (see python/README.md):

    python3 -m venv target/venv-torch
    target/venv-torch/bin/pip install "./python[safetensors]" torch
    target/venv-torch/bin/python python/scripts/check_torch.py [--cli target/release/tinytrain]

1. PyTorch to tinytrain: an nn.Sequential(Linear, ReLU, …, Linear) initialised and trained a
   little by PyTorch is saved with safetensors.torch.save_file, imported with
   Model.import_safetensors and with `tinytrain import` (when --cli is given); tinytrain's
   predictions must equal PyTorch's within 1e-6 relative, with an absolute floor of 1e-6 of the
   outputs' largest magnitude.
2. tinytrain to PyTorch: a model trained by tinytrain (with standardisation) is exported with
   Model.export_safetensors, loaded with tinytrain.torch.load_safetensors and by hand
   (nn.Sequential.load_state_dict of the layer tensors, wrapped with tinytrain.torch.standardized);
   PyTorch's outputs must equal tinytrain's within the same tolerance.
3. A state_dict with a BatchNorm1d is refused, naming its first unexpected tensor.

Exits with 0 when every check passes; prints each comparison's largest relative difference.
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

import tinytrain
import tinytrain.torch as tt

RTOL = 1e-6


def compare(label, got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    floor = 1e-6 * np.max(np.abs(want))
    worst = np.max(np.abs(got - want) / np.maximum(np.abs(want), floor / RTOL))
    ok = np.allclose(got, want, rtol=RTOL, atol=floor)
    print(f"{'ok  ' if ok else 'FAIL'} {label}: largest relative difference {worst:.2e}")
    return ok


def torch_to_tinytrain(tmp, cli):
    torch.manual_seed(0)
    widths = [3, 32, 16, 2]
    layers = []
    for k, (i, o) in enumerate(zip(widths, widths[1:])):
        layers += [nn.ReLU()] if k else []
        layers.append(nn.Linear(i, o))
    net = nn.Sequential(*layers)
    X = torch.randn(512, 3)
    Y = torch.stack([X[:, 0] * X[:, 1], torch.sin(X[:, 2])], dim=1)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(50):
        opt.zero_grad()
        nn.functional.mse_loss(net(X), Y).backward()
        opt.step()
    path = tmp / "torch.safetensors"
    save_file(net.state_dict(), path)
    with torch.no_grad():
        want = net(X).numpy()
    model = tinytrain.Model.import_safetensors(path)
    ok = compare("PyTorch -> tinytrain (import_safetensors)", model.predict(X.numpy()), want)
    ok &= compare("PyTorch -> tinytrain (from_torch)", tt.from_torch(net).predict(X.numpy()), want)
    if cli:
        subprocess.run([cli, "import", "--safetensors", path, "--model", tmp / "t.ttm"], check=True)
        ok &= compare(
            "PyTorch -> tinytrain (tinytrain import)",
            tinytrain.Model.load(tmp / "t.ttm").predict(X.numpy()),
            want,
        )
    return ok


def tinytrain_to_torch(tmp):
    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, (600, 2)).astype(np.float32)
    y = (20 * np.sin(X[:, 0]) + X[:, 1] ** 2 + 100).astype(np.float32)
    model, _ = tinytrain.train(X, y, [2, 16, 16, 1], optimizer="adam", standardize=True)
    path = tmp / "tinytrain.safetensors"
    model.export_safetensors(path)
    want = model.predict(X)
    with torch.no_grad():
        ok = compare(
            "tinytrain -> PyTorch (load_safetensors)",
            tt.load_safetensors(path)(torch.from_numpy(X)).numpy(),
            want,
        )
        tensors = load_file(path)
        seq = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        seq.load_state_dict(tensors, strict=False)
        by_hand = tt.standardized(seq, tensors)
        ok &= compare(
            "tinytrain -> PyTorch (load_state_dict + standardized)",
            by_hand(torch.from_numpy(X)).numpy(),
            want,
        )
    return ok


def batch_norm_is_refused(tmp):
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    save_file(net.state_dict(), tmp / "bn.safetensors")
    try:
        tinytrain.Model.import_safetensors(tmp / "bn.safetensors")
    except tinytrain.ModelError as e:
        ok = "unexpected tensor `1.num_batches_tracked`" in str(e)
        print(f"{'ok  ' if ok else 'FAIL'} BatchNorm1d refused: {e}")
        return ok
    print("FAIL BatchNorm1d was imported")
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", help="the tinytrain command, to check `tinytrain import` too")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, tinytrain {tinytrain.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        ok = torch_to_tinytrain(tmp, args.cli)
        ok &= tinytrain_to_torch(tmp)
        ok &= batch_norm_is_refused(tmp)
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
