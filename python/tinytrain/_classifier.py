"""``tinytrain.train_classifier``: the labels of a numpy array as classes, then the native run of
``tinytrain train --task classify``."""

from typing import Any, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._tinytrain import DataError, Model, _train_classifier


def classes_of(y: npt.ArrayLike) -> Tuple[np.ndarray, npt.NDArray[np.int64]]:
    """The sorted classes of the labels ``y`` and each label's index among them.

    ``y``: an array-like of shape ``(n,)`` holding integers, booleans, strings, or floats whose
    values are whole numbers (as ``numpy.unique`` sorts them: numbers by value, text by code
    point — as ``tinytrain train --task classify`` sorts a column of numbers or of text).

    Returns ``(classes, indices)``: ``classes`` a sorted array of the distinct labels, of
    ``y``'s dtype, and ``indices`` ``int64`` of shape ``(n,)``.

    Raises ``ValueError`` for another shape, labels that are numbers with fractions (a
    measurement: regression is meant), or two labels with the same text; ``DataError`` for a
    NaN or infinite label; ``TypeError`` for labels that do not sort together.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must have 1 dimension (one label per sample), not shape {y.shape}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y))
        if len(bad):
            err = DataError(f"train_classifier: y[{bad[0]}] (sample {bad[0]}, label) is NaN or infinite")
            err.sample, err.field, err.index = int(bad[0]), "target", 0
            raise err
        fractional = np.flatnonzero(y != np.round(y))
        if len(fractional):
            raise ValueError(
                f"y[{fractional[0]}] is {y[fractional[0]]}: labels with fractions look like a "
                f"measurement; for a numeric target use tinytrain.train (regression)"
            )
    elif y.dtype.kind not in "biuUSO":
        raise TypeError(f"y holds {y.dtype} values: labels are integers, booleans or text")
    try:
        classes, indices = np.unique(y, return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y.tolist()})
        raise TypeError(
            f"y mixes labels of kinds {kinds}, which do not sort together: labels are all "
            f"numbers or all text"
        ) from None
    names = [_name(c) for c in classes]
    if len(set(names)) != len(names):
        raise ValueError(f"two classes have the same text among {names}: labels must differ as text")
    return classes, indices.reshape(-1).astype(np.int64)


def _name(label: Any) -> str:
    """A label's text in the model file: whole floats without a fraction (``1.0`` is ``1``)."""
    if isinstance(label, (float, np.floating)):
        return str(int(label))
    if isinstance(label, bytes):
        return label.decode("utf-8", "replace")
    return str(label)


def names_of(classes: np.ndarray) -> list[str]:
    """The text of each class of ``classes`` (from :func:`classes_of`): the model's
    ``output_names``."""
    return [_name(c) for c in classes]


def weights_of(
    class_weight: Union[None, Literal["balanced"], dict[Any, float]], classes: np.ndarray
) -> Union[None, str, list[float]]:
    """``class_weight`` as the native training takes it: ``None`` and strings as they are, a
    dictionary of labels to weights as one weight per class of ``classes`` (from
    :func:`classes_of`), in their order (a class left out weighs 1).

    Raises ``ValueError`` for a dictionary naming a label that is not among ``classes``.
    """
    if not isinstance(class_weight, dict):
        return class_weight
    known = set(np.asarray(classes).tolist())
    unknown = [k for k in class_weight if k not in known]
    if unknown:
        raise ValueError(
            f"class_weight names {unknown!r}, not among the classes of y "
            f"{sorted(known, key=str)!r}"
        )
    return [float(class_weight.get(c, 1.0)) for c in classes]


def train_classifier(
    X: npt.NDArray[np.float32],
    y: npt.ArrayLike,
    layers: Optional[Sequence[int]] = None,
    *,
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd",
    learning_rate: float = 0.01,
    batch_size: int = 16,
    max_epochs: int = 500,
    patience: int = 20,
    seed: int = 1,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    standardize: bool = True,
    init: Optional[Literal["he", "xavier", "lecun", "torch"]] = None,
    divergence_factor: Optional[float] = None,
    class_weight: Union[None, Literal["balanced"], dict[Any, float]] = None,
    feature_names: Optional[Sequence[str]] = None,
    target_name: Optional[str] = None,
) -> Tuple[Model, dict[str, Any]]:
    """Trains a classifier on ``X`` and the labels ``y`` as ``tinytrain train --task classify``
    does on a CSV file: softmax cross-entropy, a stratified split, the majority class and the
    linear softmax model as baselines. Returns ``(model, report)``.

    - ``X``: ``numpy.ndarray``, ``float32``, shape ``(n, d)``, finite (strict, as
      :func:`tinytrain.train`).
    - ``y``: shape ``(n,)``, one label per sample: integers, booleans, strings, or whole
      numbers as floats. The classes are the distinct labels, sorted (``numpy.unique``); the
      network has one output (a logit) per class, in that order, and the model's
      ``output_names`` are their text.
    - ``layers``: widths, input first; default ``[d, 16, 16, K]`` for ``K`` classes.
    - ``optimizer``, ``learning_rate``, ``batch_size``, ``max_epochs``, ``patience``,
      ``seed``, ``val_fraction``, ``test_fraction``, ``standardize`` (the inputs only: the
      outputs are logits), ``init``, ``divergence_factor``: as :func:`tinytrain.train`, with
      the command line's defaults. Every class needs a sample in each part of the split.
    - ``class_weight``: ``None``, ``"balanced"`` (each class weighs ``n / (K n_c)`` in the
      loss, from the training split; ``--class-weights balanced``) or a dictionary of labels to
      weights (finite, at least 0; a class left out weighs 1).
    - ``feature_names`` (``d`` strings, kept in the model), ``target_name`` (the report's).

    With the same data, split and seed, the weights have the same bits as the command line's.
    ``report`` is the dictionary of ``tinytrain train --task classify --report``: ``classes``,
    ``network``/``linear``/``majority`` (cross-entropy in nats, accuracy, per-class precision
    and recall, confusion matrix on each part), ``history``, ``diagnostics``, ``config``.

    Raises as :func:`tinytrain.train`, and ``ValueError`` for fewer than two classes or a class
    too small for the split (naming it and its count); ``KeyboardInterrupt`` on Ctrl-C.
    """
    classes, indices = classes_of(y)
    return _train_classifier(
        X,
        indices,
        names_of(classes),
        layers,
        optimizer=optimizer,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_epochs=max_epochs,
        patience=patience,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        standardize=standardize,
        init=init,
        divergence_factor=divergence_factor,
        class_weight=weights_of(class_weight, classes),
        feature_names=feature_names,
        target_name=target_name,
    )
