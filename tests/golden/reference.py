#!/usr/bin/env python3
"""Independent reference for tinytrain's training arithmetic, in float64 numpy.

Writes tests/golden/<optimizer>.txt: a small ReLU network, its data, fixed initial weights and a
fixed batch order, then the losses of every epoch and the weights after every update. The Rust
test `golden` replays the same run through `tinytrain_core::Trainer` and compares within a
tolerance (the reference computes in float64, the core in float32).

The arithmetic written down here, from the textbook, not from the Rust code:
  forward    z = W x + b;  ReLU on hidden layers, linear output
  loss       per sample: mean over outputs of (y - t)^2; per batch: mean over samples
  gradient   back-propagation of the batch loss
  sgd        p -= lr * g
  momentum   v = beta * v + g;  p -= lr * v
  adam       m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
             p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
  epoch train loss: mean of the per-sample losses seen during the epoch (weights of their batch)
  epoch validation loss: mean loss of the validation samples after the epoch

Run: python3 tests/golden/reference.py   (needs numpy)
"""
import pathlib

import numpy as np

WIDTHS = [2, 4, 3, 2]
N_TRAIN, N_VAL = 7, 3
BATCH = 3  # 7 samples: batches of 3, 3 and a last partial batch of 1
EPOCHS = 3
OPTIMIZERS = {
    "sgd": dict(lr=0.05),
    "momentum": dict(lr=0.05, beta=0.9),
    "adam": dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8),
}


def f32(a):
    """Round to float32 values (what the Rust side stores), kept as float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_case():
    rng = np.random.default_rng(2024)
    n = N_TRAIN + N_VAL
    x = f32(rng.uniform(-1.5, 1.5, size=(n, WIDTHS[0])))
    t = f32(np.stack([np.sin(2 * x[:, 0]) + x[:, 1] ** 2, x[:, 0] * x[:, 1]], axis=1))
    layers = []
    for fan_in, fan_out in zip(WIDTHS[:-1], WIDTHS[1:]):
        bound = np.sqrt(6.0 / fan_in)
        w = f32(rng.uniform(-bound, bound, size=(fan_out, fan_in)))
        b = f32(rng.uniform(-0.1, 0.1, size=fan_out))
        layers.append([w, b])
    order = rng.permutation(n)
    return x, t, layers, order


def forward(layers, x):
    acts = [x]
    for k, (w, b) in enumerate(layers):
        z = w @ acts[-1] + b
        acts.append(np.maximum(z, 0.0) if k < len(layers) - 1 else z)
    return acts


def sample_grad(layers, x, t):
    acts = forward(layers, x)
    y = acts[-1]
    loss = np.mean((y - t) ** 2)
    d = 2.0 * (y - t) / len(t)
    grads = [None] * len(layers)
    for k in range(len(layers) - 1, -1, -1):
        w, _ = layers[k]
        grads[k] = [np.outer(d, acts[k]), d.copy()]
        if k > 0:
            d = (w.T @ d) * (acts[k] > 0)
    return loss, grads


def flat(layers):
    return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in layers])


def run(name, hp, x, t, layers, order):
    layers = [[w.copy(), b.copy()] for w, b in layers]
    state = [[np.zeros_like(w), np.zeros_like(b)] for w, b in layers]
    state2 = [[np.zeros_like(w), np.zeros_like(b)] for w, b in layers]
    train, val = order[:N_TRAIN], order[N_TRAIN:N_TRAIN + N_VAL]
    step = 0
    lines = []
    for epoch in range(1, EPOCHS + 1):
        losses = []
        for start in range(0, N_TRAIN, BATCH):
            batch = train[start:start + BATCH]
            total = [[np.zeros_like(w), np.zeros_like(b)] for w, b in layers]
            for i in batch:
                loss, g = sample_grad(layers, x[i], t[i])
                losses.append(loss)
                for acc, gk in zip(total, g):
                    acc[0] += gk[0]
                    acc[1] += gk[1]
            step += 1
            for k, (acc, s, s2) in enumerate(zip(total, state, state2)):
                for j in range(2):
                    g = acc[j] / len(batch)
                    if name == "sgd":
                        layers[k][j] -= hp["lr"] * g
                    elif name == "momentum":
                        s[j] = hp["beta"] * s[j] + g
                        layers[k][j] -= hp["lr"] * s[j]
                    else:
                        b1, b2 = hp["beta1"], hp["beta2"]
                        s[j] = b1 * s[j] + (1 - b1) * g
                        s2[j] = b2 * s2[j] + (1 - b2) * g * g
                        m_hat = s[j] / (1 - b1 ** step)
                        v_hat = s2[j] / (1 - b2 ** step)
                        layers[k][j] -= hp["lr"] * m_hat / (np.sqrt(v_hat) + hp["eps"])
            lines.append("params " + " ".join(f"{v:.9e}" for v in flat(layers)))
        val_loss = np.mean([np.mean((forward(layers, x[i])[-1] - t[i]) ** 2) for i in val])
        lines.append(f"epoch {epoch} {np.mean(losses):.9e} {val_loss:.9e}")
    return lines


def main():
    x, t, layers, order = make_case()
    out = pathlib.Path(__file__).with_name("cases")
    out.mkdir(exist_ok=True)
    for name, hp in OPTIMIZERS.items():
        header = [
            "# written by tests/golden/reference.py; do not edit by hand",
            "widths " + " ".join(map(str, WIDTHS)),
            f"split {N_TRAIN} {N_VAL}",
            f"batch {BATCH}",
            "optimizer " + name + " " + " ".join(f"{k}={v!r}" for k, v in hp.items()),
            "inputs " + " ".join(f"{v:.9e}" for v in x.ravel()),
            "targets " + " ".join(f"{v:.9e}" for v in t.ravel()),
            "order " + " ".join(map(str, order)),
            "init " + " ".join(f"{v:.9e}" for v in flat(layers)),
        ]
        body = run(name, hp, x, t, layers, order)
        (out / f"{name}.txt").write_text("\n".join(header + body) + "\n")


if __name__ == "__main__":
    main()
