"""tinytrain: train small neural networks with a microcontroller's arithmetic, from Python.

A model trained here has the same bits as one trained by the ``tinytrain`` command line or on
the device, for the same data, split and seed.

- :func:`train` trains a ReLU MLP (or the linear model) on numpy ``float32`` arrays and returns
  the model and the command line's JSON report as a dictionary.
- :func:`train_classifier` trains a classifier (softmax cross-entropy, a stratified split) on
  ``float32`` inputs and labels of any sortable dtype, as ``tinytrain train --task classify``.
- :class:`Model` loads, saves, predicts and pickles; it reads and writes the device's model
  format.
- :class:`Stream` is the stream learner of ``tinytrain train --stream``, fed one sample at a
  time (``push``, ``step``) or by arrays (``feed``): the device learning from a sensor.
- :mod:`tinytrain.sklearn` wraps training as scikit-learn estimators.

The functions of the package are strict: arrays must be ``float32`` of the documented shape
and finite, or a ``TypeError``, ``ValueError`` or :class:`DataError` says which argument,
sample and column is wrong. The scikit-learn estimators convert what scikit-learn's
conventions ask them to accept.
"""

from ._classifier import train_classifier
from ._tinytrain import DataError, Model, ModelError, Stream, __version__, train

__all__ = ["DataError", "Model", "ModelError", "Stream", "__version__", "train", "train_classifier"]
