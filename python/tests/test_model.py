"""tinytrain.Model: files, bytes, pickling, prediction, and strict input checking."""

import pickle

import numpy as np
import pytest

import tinytrain
from conftest import sine


@pytest.fixture(scope="module")
def model():
    X, y = sine(200)
    model, _ = tinytrain.train(X, y, [1, 8, 1], optimizer="adam", max_epochs=50, standardize=True)
    return model


def test_save_load_and_bytes_round_trip(model, tmp_path):
    path = tmp_path / "m.ttm"
    model.save(path)
    loaded = tinytrain.Model.load(str(path))
    assert loaded == model
    assert path.read_bytes() == model.to_bytes()
    assert tinytrain.Model.from_bytes(model.to_bytes()) == model
    assert loaded.widths == [1, 8, 1] and (loaded.n_inputs, loaded.n_outputs) == (1, 1)
    assert loaded.params.dtype == np.float32 and loaded.params.shape == (1 * 8 + 8 + 8 + 1,)
    assert loaded.stats.shape == (4,)


def test_pickle_keeps_every_bit(model):
    again = pickle.loads(pickle.dumps(model))
    assert again == model
    X = np.linspace(-1, 1, 33, dtype=np.float32).reshape(-1, 1)
    assert again.predict(X).tobytes() == model.predict(X).tobytes()


def test_equality_is_by_bits(model):
    other = tinytrain.Model.from_bytes(model.to_bytes())
    assert other == model
    X, y = sine(200)
    different, _ = tinytrain.train(X, y, [1, 8, 1], max_epochs=5, seed=2)
    assert different != model
    assert model != "a model"


def test_predict_matches_the_formula(model):
    """The forward pass of the parameters' layout ([fan_out, fan_in] weights, then biases)."""
    X = np.linspace(-1, 1, 50, dtype=np.float32).reshape(-1, 1)
    p, s = model.params.astype(np.float64), model.stats.astype(np.float64)
    w1, b1 = p[:8].reshape(8, 1), p[8:16]
    w2, b2 = p[16:24].reshape(1, 8), p[24:25]
    h = np.maximum((X - s[0]) / s[1] @ w1.T + b1, 0.0)
    want = (h @ w2.T + b2) * s[3] + s[2]
    got = model.predict(X)
    assert got.shape == (50, 1) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_predict_reads_strided_arrays(model):
    X = np.linspace(-1, 1, 40, dtype=np.float32).reshape(-1, 2)
    strided = X[:, 1:]  # not contiguous
    assert not strided.flags["C_CONTIGUOUS"]
    assert model.predict(strided).tobytes() == model.predict(strided.copy()).tobytes()


def test_strict_inputs_name_the_problem(model):
    X = np.zeros((4, 1), dtype=np.float32)
    with pytest.raises(TypeError, match="float32, not float64"):
        model.predict(X.astype(np.float64))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        model.predict([[0.0]])
    with pytest.raises(ValueError, match="2 dimensions"):
        model.predict(X[:, 0])
    with pytest.raises(ValueError, match="3 columns, but the model takes 1 input"):
        model.predict(np.zeros((4, 3), dtype=np.float32))
    X[2, 0] = np.inf
    with pytest.raises(tinytrain.DataError) as e:
        model.predict(X)
    assert (e.value.sample, e.value.field, e.value.index) == (2, "input", 0)
    assert "X[2, 0]" in str(e.value)


def test_bad_files_and_bytes(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ttm"):
        tinytrain.Model.load(tmp_path / "nope.ttm")
    blob = bytearray(model.to_bytes())
    blob[-10] ^= 1  # a bit of a weight
    with pytest.raises(tinytrain.ModelError, match="CRC"):
        tinytrain.Model.from_bytes(bytes(blob))
    for at in range(len(blob)):  # no flipped bit anywhere loads, or raises anything else
        flipped = bytearray(model.to_bytes())
        flipped[at] ^= 0x10
        with pytest.raises(tinytrain.ModelError):
            tinytrain.Model.from_bytes(bytes(flipped))
    with pytest.raises(tinytrain.ModelError, match="magic"):
        tinytrain.Model.from_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(IsADirectoryError):
        model.save(tmp_path)
