"""The statistics round: devices' counts, sums and sums of squares, combined in float64."""

import numpy as np
import tinytrain

from tinytrain_fleet import data, standardize


def test_combined_shares_are_the_pooled_statistics():
    fleet = data.fleet(50)
    shares = [standardize.moments(d.X_train, d.y_train) for d in fleet.devices]
    stats = standardize.combine(shares)
    X, y = fleet.pooled("train")
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    np.testing.assert_allclose(stats["input_mean"], X64.mean(0), rtol=1e-6)
    np.testing.assert_allclose(stats["input_std"], X64.std(0), rtol=1e-6)
    np.testing.assert_allclose(stats["target_mean"], [y64.mean()], rtol=1e-6)
    np.testing.assert_allclose(stats["target_std"], [y64.std()], rtol=1e-6)
    # tinytrain's own scaler (two passes in f64) on the pooled training set: the same, to f32.
    model, _ = tinytrain.train(X, y, [9, 1], max_epochs=1, validation_data=(X[:1], y[:1]))
    keys = ("input_mean", "input_std", "target_mean", "target_std")
    pooled = np.concatenate([stats[k] for k in keys])
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, model.stats, rtol=1e-6)


def test_a_constant_column_is_only_shifted():
    X = np.column_stack([np.full(40, 14.62), np.arange(40.0)]).astype(np.float32)
    y = np.arange(40.0).astype(np.float32)
    stats = standardize.combine([standardize.moments(X[:25], y[:25]), standardize.moments(X[25:], y[25:])])
    assert stats["input_mean"][0] == np.float32(14.62)
    assert stats["input_std"][0] == 1.0
    assert stats["input_std"][1] == np.float32(np.arange(40.0).std())


def test_no_sample_is_an_error():
    try:
        standardize.combine([])
    except ValueError as e:
        assert "no device" in str(e)
    else:
        raise AssertionError("no error")
