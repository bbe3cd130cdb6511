"""scikit-learn estimators that train with the device's arithmetic.

:class:`TinyMLPRegressor` and :class:`TinyMLPClassifier` follow scikit-learn's estimator conventions: every parameter is set
in ``__init__`` and only stored there, ``fit(X, y)`` validates and converts the data and
returns the estimator, learned attributes end with an underscore, and ``get_params`` /
``set_params`` / ``clone`` work, so it goes into ``Pipeline``, ``cross_val_score`` and
``GridSearchCV``. Requires scikit-learn 1.6 or newer (``pip install tinytrain[sklearn]``).

Unlike :func:`tinytrain.train`, which is strict, the estimators accept what scikit-learn's
conventions ask: lists, other numeric dtypes (converted to ``float32``, the device's type),
non-contiguous and read-only arrays, pandas data frames (whose column names become
``feature_names_in_``). NaN and infinities are rejected as scikit-learn rejects them.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from ._classifier import classes_of, names_of, weights_of
from ._tinytrain import _train_classifier, train

__all__ = ["TinyMLPClassifier", "TinyMLPRegressor"]


def _seed(random_state):
    """tinytrain's seed: the int given, or one drawn as scikit-learn draws seeds."""
    if isinstance(random_state, (int, np.integer)) and random_state >= 0:
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _TinyMLP(BaseEstimator):
    """What the two estimators share: the training settings their parameters make, the fitted
    attributes every ``fit`` reads from the report, and the check of ``X`` before a prediction.
    Each estimator lists its parameters in its own ``__init__``, where scikit-learn reads them
    (``get_params``, ``set_params``, ``clone``)."""

    def _settings(self):
        """The training settings of the parameters, for ``fit``: no test split (testing is the
        caller's), and the column names ``fit`` saw (a data frame's) kept in the model."""
        names = getattr(self, "feature_names_in_", None)
        return dict(
            optimizer=self.optimizer,
            learning_rate=float(self.learning_rate),
            batch_size=int(self.batch_size),
            max_epochs=int(self.max_epochs),
            patience=int(self.patience),
            seed=_seed(self.random_state),
            val_fraction=float(self.val_fraction),
            test_fraction=0.0,
            standardize=bool(self.standardize),
            feature_names=None if names is None else [str(n) for n in names],
        )

    def _keep(self, trained, train_loss):
        """Keeps what training returned, ``(model, report)``: ``model_``, ``report_``,
        ``n_iter_``, ``best_epoch_``, and ``loss_curve_``, the history's ``train_loss`` field of
        every epoch. Returns the report's history."""
        self.model_, self.report_ = trained
        self.n_iter_ = self.report_["epochs_run"]
        self.best_epoch_ = self.report_["best_epoch"]
        history = self.report_["history"]
        self.loss_curve_ = [e[train_loss] for e in history]
        return history

    def _checked(self, X):
        """``X`` to predict, converted to C-contiguous ``float32`` and checked against the
        features ``fit`` saw; ``NotFittedError`` before ``fit`` (call it before reading
        ``model_``)."""
        check_is_fitted(self, "model_")
        return validate_data(self, X, dtype=np.float32, order="C", reset=False)


class TinyMLPRegressor(RegressorMixin, _TinyMLP):
    """A ReLU multilayer perceptron trained by tinytrain (MSE, mini-batch gradient descent,
    early stopping on a validation split), as a scikit-learn regressor.

    The network is ``[n_features, *hidden_layer_sizes, n_outputs]``; ``hidden_layer_sizes=()``
    is the linear model. With the same data and ``random_state``, the fitted weights have the
    same bits as ``tinytrain train`` on the command line and as the device.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(16, 16)
        Widths of the hidden layers, input side first (scikit-learn's ``MLPRegressor`` name).
    optimizer : {"sgd", "momentum", "adam"}, default="adam"
        The update rule: plain SGD, heavy-ball momentum (β = 0.9), Adam (β₁ = 0.9,
        β₂ = 0.999, ε = 1e-8; Kingma & Ba 2015).
    learning_rate : float, default=0.01
        The step size.
    batch_size : int, default=16
        Samples per mini-batch (the last batch of an epoch holds the rest).
    max_epochs : int, default=500
        Upper bound on passes over the training samples.
    patience : int, default=20
        Epochs without a lower validation loss before stopping early; the best weights are
        kept.
    val_fraction : float, default=0.2
        Fraction of the samples ``fit`` holds out for early stopping, drawn by tinytrain's LCG
        from ``random_state``. (Testing is the caller's: ``cross_val_score``,
        ``train_test_split``.)
    standardize : bool, default=True
        Standardise inputs and targets with the training split's mean and standard deviation
        (stored with the model, so ``predict`` takes and returns original units).
    random_state : int, RandomState instance or None, default=1
        Seeds the split, the initial weights and the per-epoch shuffle (tinytrain's LCG). An
        int is used as the seed itself; ``None`` or a ``RandomState`` draws a seed from numpy,
        as scikit-learn's conventions have it.

    Attributes
    ----------
    model_ : tinytrain.Model
        The trained network (save it with ``model_.save(path)`` and flash it).
    report_ : dict
        The training report, with the fields of ``tinytrain train --report``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` had string column names (a pandas data frame).
    n_outputs_ : int
    n_iter_ : int
        Epochs trained.
    best_epoch_ : int
        Epoch whose weights were kept.
    loss_curve_ : list of float
        Mean training MSE of every epoch, in the targets' units.
    validation_scores_ : list of float
        Validation MSE at the end of every epoch.
    """

    def __init__(
        self,
        hidden_layer_sizes=(16, 16),
        optimizer="adam",
        learning_rate=0.01,
        batch_size=16,
        max_epochs=500,
        patience=20,
        val_fraction=0.2,
        standardize=True,
        random_state=1,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.standardize = standardize
        self.random_state = random_state

    def fit(self, X, y):
        """Trains on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or
        (n_samples, n_outputs); returns ``self``."""
        X, y = validate_data(
            self, X, y, dtype=np.float32, y_numeric=True, multi_output=True, order="C"
        )
        y = np.ascontiguousarray(y, dtype=np.float32)
        if len(X) < 2:
            raise ValueError(
                f"TinyMLPRegressor needs at least 2 samples (training and validation), "
                f"got {len(X)} sample"
            )
        self._y_vector = y.ndim == 1
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        layers = [X.shape[1], *self.hidden_layer_sizes, self.n_outputs_]
        history = self._keep(train(X, y, layers, **self._settings()), "train_mse")
        self.validation_scores_ = [e["val_mse"] for e in history]
        return self

    def predict(self, X):
        """Predicts ``X`` (n_samples, n_features): (n_samples,) when ``fit`` had a vector
        ``y``, else (n_samples, n_outputs). The device's ``float32`` results, returned as
        ``float64`` (scikit-learn's convention for regressors; every ``float32`` is exactly a
        ``float64``, so nothing is rounded)."""
        X = self._checked(X)
        out = self.model_.predict(X).astype(np.float64)
        return out[:, 0] if self._y_vector else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class TinyMLPClassifier(ClassifierMixin, _TinyMLP):
    """A ReLU multilayer perceptron trained by tinytrain on the softmax cross-entropy
    (mini-batch gradient descent, early stopping on a stratified validation split), as a
    scikit-learn classifier.

    The network is ``[n_features, *hidden_layer_sizes, n_classes]``, one logit per class of
    ``classes_``; ``hidden_layer_sizes=()`` is the linear softmax model (multinomial logistic
    regression). With the same data and ``random_state``, the fitted weights have the same bits
    as ``tinytrain train --task classify`` on the command line and as the device.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(16, 16)
        Widths of the hidden layers, input side first.
    optimizer : {"sgd", "momentum", "adam"}, default="adam"
        The update rule, as :class:`TinyMLPRegressor`'s.
    learning_rate : float, default=0.01
    batch_size : int, default=16
    max_epochs : int, default=500
    patience : int, default=20
        Epochs without a lower validation cross-entropy before stopping early; the best
        weights are kept.
    val_fraction : float, default=0.2
        Fraction of each class's samples that ``fit`` holds out for early stopping (a
        stratified split drawn by tinytrain's LCG from ``random_state``). Every class needs at
        least two samples: one to train on, one to validate on.
    standardize : bool, default=True
        Standardise the inputs with the training split's mean and standard deviation (stored
        with the model).
    class_weight : None, "balanced" or dict, default=None
        ``"balanced"`` weighs each class ``n_samples / (n_classes · n_c)`` in the loss (the
        training split's counts), as scikit-learn's ``class_weight="balanced"``; a dictionary
        maps labels to weights (a class left out weighs 1; a label that ``y`` does not have is
        a ``ValueError`` in ``fit``, as in scikit-learn).
    random_state : int, RandomState instance or None, default=1
        Seeds the split, the initial weights and the shuffle, as :class:`TinyMLPRegressor`'s.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, sorted (``numpy.unique``), of ``y``'s dtype: the network's
        output order.
    model_ : tinytrain.Model
        The trained network (``task == "classification"``, ``output_names`` the classes' text).
    report_ : dict
        The training report, with the fields of ``tinytrain train --task classify --report``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` had string column names (a pandas data frame).
    n_iter_ : int
        Epochs trained.
    best_epoch_ : int
        Epoch whose weights were kept (0: the initial weights).
    loss_curve_ : list of float
        Mean training cross-entropy of every epoch, in nats (weighted as in training).
    validation_loss_curve_ : list of float
        Validation cross-entropy at the end of every epoch, in nats.
    """

    def __init__(
        self,
        hidden_layer_sizes=(16, 16),
        optimizer="adam",
        learning_rate=0.01,
        batch_size=16,
        max_epochs=500,
        patience=20,
        val_fraction=0.2,
        standardize=True,
        class_weight=None,
        random_state=1,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.standardize = standardize
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X, y):
        """Trains on ``X`` (n_samples, n_features) and the labels ``y`` (n_samples,), of any
        dtype ``numpy.unique`` sorts; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float32, order="C")
        check_classification_targets(y)
        self.classes_, indices = classes_of(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"TinyMLPClassifier needs at least 2 classes in y, got 1 class "
                f"({self.classes_[0]!r})"
            )
        layers = [X.shape[1], *self.hidden_layer_sizes, len(self.classes_)]
        trained = _train_classifier(
            X,
            indices,
            names_of(self.classes_),
            layers,
            **self._settings(),
            class_weight=weights_of(self.class_weight, self.classes_),
        )
        history = self._keep(trained, "train_loss")
        self.validation_loss_curve_ = [e["val_loss"] for e in history]
        return self

    def decision_function(self, X):
        """The network's logits for ``X`` (n_samples, n_features), as ``float64``: shape
        (n_samples, n_classes), or for two classes (n_samples,), the second class's logit
        minus the first's (positive: ``classes_[1]``), as scikit-learn's convention has it."""
        X = self._checked(X)
        logits = self.model_.predict(X).astype(np.float64)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X):
        """Each class's probability (the softmax of the logits, the device's ``float32`` bits
        as ``float64``), shape (n_samples, n_classes) in the order of ``classes_``."""
        X = self._checked(X)
        return self.model_.predict_proba(X).astype(np.float64)

    def predict(self, X):
        """The class of the largest logit for each row of ``X``, from ``classes_`` (the
        first such class on a tie, as the device's argmax)."""
        X = self._checked(X)
        logits = self.model_.predict(X)
        return self.classes_[np.argmax(logits, axis=1)]
