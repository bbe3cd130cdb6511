"""PyTorch's weights both ways, checked with numpy and safetensors only (no torch in CI): the
file's layout, a numpy forward pass of the state_dict, import, export, errors."""

import json
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import tinytrain
from conftest import sine

STATS = ("input_mean", "input_std", "target_mean", "target_std")


def forward(tensors, X):
    """The forward pass of nn.Sequential(Linear, ReLU, …, Linear) in float64, with the
    standardisation tensors when present."""
    t = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
    x = np.asarray(X, dtype=np.float64)
    if "input_mean" in t:
        x = (x - t["input_mean"]) / t["input_std"]
    positions = sorted(int(k.split(".")[0]) for k in t if k.endswith(".weight"))
    for n, i in enumerate(positions):
        x = x @ t[f"{i}.weight"].T + t[f"{i}.bias"]
        if n < len(positions) - 1:
            x = np.maximum(x, 0.0)
    if "target_mean" in t:
        x = x * t["target_std"] + t["target_mean"]
    return x


def assert_close(got, want):
    """Within 1e-6 relative, with an absolute floor of 1e-6 of the outputs' largest magnitude."""
    floor = 1e-6 * float(np.max(np.abs(want)))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=floor)


def torch_like(widths, seed):
    """A state_dict as nn.Sequential(Linear, ReLU, …) initialises it: U(±1/sqrt(fan_in))."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for k, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        bound = 1 / np.sqrt(fan_in)
        tensors[f"{2 * k}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        tensors[f"{2 * k}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return tensors


@pytest.fixture(scope="module")
def trained():
    X, y = sine(300)
    Y = np.stack([y, 10 * y + 3], axis=1)
    model, _ = tinytrain.train(X, Y, [1, 16, 16, 2], optimizer="adam", max_epochs=60, standardize=True)
    return model


def test_export_has_the_documented_layout(trained, tmp_path):
    path = tmp_path / "m.safetensors"
    trained.export_safetensors(path)
    tensors = load_file(path)
    shapes = {k: v.shape for k, v in tensors.items()}
    assert shapes == {
        "0.weight": (16, 1), "0.bias": (16,), "2.weight": (16, 16), "2.bias": (16,),
        "4.weight": (2, 16), "4.bias": (2,),
        "input_mean": (1,), "input_std": (1,), "target_mean": (2,), "target_std": (2,),
    }
    assert all(v.dtype == np.float32 for v in tensors.values())
    (header_len,) = struct.unpack("<Q", path.read_bytes()[:8])
    header = json.loads(path.read_bytes()[8 : 8 + header_len])
    assert header["__metadata__"] == {"format": "pt"}
    in_memory = trained.state_dict()
    assert in_memory.keys() == tensors.keys()
    assert all(in_memory[k].tobytes() == tensors[k].tobytes() for k in tensors)


def test_numpy_forward_of_the_export_matches_predict(trained, tmp_path):
    trained.export_safetensors(tmp_path / "m.safetensors")
    X = np.linspace(-1.5, 1.5, 301, dtype=np.float32).reshape(-1, 1)
    assert_close(trained.predict(X), forward(load_file(tmp_path / "m.safetensors"), X))


def test_export_then_import_keeps_every_bit(trained, tmp_path, cli):
    path = tmp_path / "m.safetensors"
    trained.export_safetensors(path)
    assert tinytrain.Model.import_safetensors(path) == trained
    assert tinytrain.Model.from_state_dict(trained.state_dict()) == trained
    trained.save(tmp_path / "m.ttm")
    cli("export", "--model", tmp_path / "m.ttm", "--safetensors", tmp_path / "cli.safetensors")
    assert (tmp_path / "cli.safetensors").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("with_stats", [False, True])
def test_import_of_a_torch_like_state_dict(tmp_path, cli, with_stats):
    widths = [3, 16, 8, 2]
    tensors = torch_like(widths, seed=4)
    if with_stats:
        tensors.update(
            input_mean=np.array([1.0, -2.0, 0.5], np.float32),
            input_std=np.array([2.0, 0.5, 3.0], np.float32),
            target_mean=np.array([10.0, -1.0], np.float32),
            target_std=np.array([4.0, 0.25], np.float32),
        )
    path = tmp_path / "torch.safetensors"
    save_file(tensors, path)
    model = tinytrain.Model.import_safetensors(path)
    assert model.widths == widths
    X = np.random.default_rng(5).normal(size=(200, 3)).astype(np.float32)
    assert_close(model.predict(X), forward(tensors, X))
    cli("import", "--safetensors", path, "--model", tmp_path / "cli.ttm")
    assert tinytrain.Model.load(tmp_path / "cli.ttm") == model
    assert tinytrain.Model.from_state_dict(tensors) == model
    if not with_stats:
        assert model.stats.tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 1, 1]


def test_what_is_not_a_plain_mlp_is_named(tmp_path):
    def problem(tensors):
        save_file(tensors, tmp_path / "bad.safetensors")
        with pytest.raises(tinytrain.ModelError) as e:
            tinytrain.Model.import_safetensors(tmp_path / "bad.safetensors")
        with pytest.raises(tinytrain.ModelError) as e2:
            tinytrain.Model.from_state_dict(tensors)
        assert str(e2.value).startswith("state_dict: ")
        return str(e.value)

    good = torch_like([2, 4, 1], seed=1)
    batch_norm = dict(good, **{"1.running_mean": np.zeros(4, np.float32)})
    assert "unexpected tensor `1.running_mean`" in problem(batch_norm)
    dropout = {k.replace("2.", "3."): v for k, v in good.items()}
    assert "unexpected tensor `3.weight` where `2.weight` was expected" in problem(dropout)
    no_bias = {k: v for k, v in good.items() if k != "2.bias"}
    assert "missing tensor `2.bias`" in problem(no_bias)
    chained_wrong = dict(good, **{"2.weight": np.zeros((1, 5), np.float32)})
    assert "tensor `2.weight` has shape [1, 5], expected [fan_out, 4]" in problem(chained_wrong)
    nan = dict(good, **{"0.bias": np.array([0, 0, np.nan, 0], np.float32)})
    assert "tensor `0.bias` holds NaN or an infinity at flat index 2" in problem(nan)
    half = dict(good, input_mean=np.zeros(2, np.float32))
    assert "missing tensor `input_std`" in problem(half)

    save_file({k: v.astype(np.float64) for k, v in good.items()}, tmp_path / "f64.safetensors")
    with pytest.raises(tinytrain.ModelError, match=r"tensor `0.weight` has dtype F64"):
        tinytrain.Model.import_safetensors(tmp_path / "f64.safetensors")
    with pytest.raises(TypeError, match=r'state_dict\["0.weight"\] must have dtype float32'):
        tinytrain.Model.from_state_dict({k: v.astype(np.float64) for k, v in good.items()})
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(tinytrain.ModelError, match="not a safetensors file"):
        tinytrain.Model.import_safetensors(tmp_path / "junk.safetensors")
