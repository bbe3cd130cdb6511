"""Type stubs of the native module (shapes and dtypes in the docstrings of the Rust side)."""

from os import PathLike
from typing import Any, Literal, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

class DataError(ValueError):
    """A sample holds NaN or an infinity."""

    sample: int
    field: Literal["input", "target"]
    index: int

class ModelError(ValueError):
    """Bytes, a file or tensors that are not a valid tinytrain model."""

class Model:
    """A trained network: widths, weights and biases, standardisation statistics."""

    @staticmethod
    def load(path: Union[str, PathLike[str]]) -> Model:
        """Reads a model file. Raises OSError or ModelError."""
    def save(self, path: Union[str, PathLike[str]]) -> None:
        """Writes the model file atomically."""
    def to_bytes(self) -> bytes:
        """The model in the device's binary format."""
    @staticmethod
    def from_bytes(data: bytes) -> Model:
        """Reads a model from model-format bytes. Raises ModelError."""
    def predict(self, X: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """X: float32 (n, n_inputs) -> float32 (n, n_outputs), in the targets' units (a
        classifier: one logit per class)."""
    def predict_proba(self, X: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """A classifier's X: float32 (n, n_inputs) -> float32 (n, n_classes), each row the
        softmax of the logits. Raises ValueError for a regression model."""
    @property
    def task(self) -> Literal["regression", "classification"]: ...
    @property
    def input_names(self) -> Optional[list[str]]: ...
    @property
    def output_names(self) -> Optional[list[str]]:
        """The targets' names, or a classifier's class labels in output order."""
    @property
    def widths(self) -> list[int]:
        """Layer widths, input first."""
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def params(self) -> npt.NDArray[np.float32]:
        """All weights and biases, layer after layer (weights [fan_out, fan_in], biases)."""
    @property
    def stats(self) -> npt.NDArray[np.float32]:
        """Input means, input deviations, target means, target deviations."""
    @staticmethod
    def initial(
        layers: Sequence[int],
        *,
        init: Optional[Literal["he", "xavier", "lecun", "torch"]] = None,
        seed: int = 1,
    ) -> Model:
        """The weights train() starts from with these layers, init and seed; no standardisation."""
    def optimizer_state(self) -> Optional[dict[str, Any]]:
        """The saved optimizer state: optimizer, steps, beta1_power, beta2_power, values."""
    def with_optimizer_state(self, state: Optional[dict[str, Any]]) -> Model:
        """A copy with this optimizer state (or none). Raises ValueError, TypeError, ModelError."""
    def __eq__(self, other: object) -> bool: ...
    def __reduce__(self) -> Tuple[Any, Tuple[bytes]]: ...

def train(
    X: npt.NDArray[np.float32],
    y: npt.NDArray[np.float32],
    layers: Optional[Sequence[int]] = None,
    *,
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd",
    learning_rate: float = 0.01,
    batch_size: int = 16,
    max_epochs: int = 500,
    patience: int = 20,
    seed: int = 1,
    val_fraction: Optional[float] = None,
    test_fraction: Optional[float] = None,
    standardize: bool = True,
    init: Optional[Literal["he", "xavier", "lecun", "torch"]] = None,
    divergence_factor: Optional[float] = None,
    feature_names: Optional[Sequence[str]] = None,
    target_names: Optional[Sequence[str]] = None,
    validation_data: Optional[Tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]] = None,
    initial_model: Optional[Model] = None,
    warm_up: bool = True,
) -> Tuple[Model, dict[str, Any]]:
    """Trains on X float32 (n, d) and y float32 (n,) or (n, k); returns (model, report)."""

def _train_classifier(
    X: npt.NDArray[np.float32],
    classes_of: npt.NDArray[np.int64],
    classes: Sequence[str],
    layers: Optional[Sequence[int]] = None,
    **settings: Any,
) -> Tuple[Model, dict[str, Any]]:
    """X float32 (n, d), classes_of int64 (n,) indices into classes (K names), and the keyword
    settings of tinytrain.train_classifier (a class_weight dictionary as K weights, in the
    order of classes); returns (model, report). tinytrain.train_classifier, typed there, takes
    labels of any sortable dtype."""

class StreamEvent(TypedDict, total=False):
    """A pause, drift, resume or spike; MSEs in the targets' units."""

    kind: Literal["paused", "drift", "resumed", "spike"]
    epoch: int
    arrivals: int
    reason: str
    reference_mse: float
    val_mse: float
    checkpoint_mse: float

class StreamEpoch(TypedDict):
    """The end of an epoch of a stream; MSEs in the targets' units."""

    epoch: int
    arrivals: int
    train_mse: Optional[float]
    val_mse: Optional[float]
    grad_norm: Optional[float]
    best: bool
    paused: bool
    events: list[StreamEvent]

class Stream:
    """The stream learner of `tinytrain train --stream`, one sample at a time."""

    def __init__(
        self,
        layers: Optional[Sequence[int]] = None,
        *,
        optimizer: Optional[Literal["sgd", "momentum", "adam"]] = None,
        learning_rate: Optional[float] = None,
        batch_size: Optional[int] = None,
        patience: int = 20,
        seed: int = 1,
        standardize: bool = True,
        init: Optional[Literal["he", "xavier", "lecun", "torch"]] = None,
        replay: int = 128,
        replay_policy: Literal["reservoir", "window"] = "reservoir",
        holdout_every: int = 5,
        validation_window: int = 64,
        test_every: int = 0,
        test_window: Optional[int] = None,
        warmup: int = 32,
        every: int = 4,
        steps_per: int = 1,
        drift_factor: float = 3.0,
        drift_epochs: int = 3,
        trainable_from: int = 0,
        model: Optional[Model] = None,
    ) -> None: ...
    def push(
        self, x: npt.NDArray[np.float32], y: npt.NDArray[np.float32]
    ) -> Literal["training", "validation", "test"]:
        """x float32 (n_inputs,), y float32 (n_outputs,): where the sample went."""
    def step(self) -> Union[bool, StreamEpoch]:
        """False: no step due; True: a step; an epoch's dict when one ended."""
    def feed(
        self, X: npt.NDArray[np.float32], y: npt.NDArray[np.float32]
    ) -> list[StreamEpoch]:
        """X float32 (n, n_inputs), y float32 (n,) or (n, n_outputs), row by row with the
        steps due after each; the epochs that ended."""
    @property
    def model(self) -> Model:
        """The current weights (the checkpoint's while paused)."""
    def finish(self) -> Tuple[Model, Optional[float]]:
        """The checkpoint and its test-window MSE; the stream takes nothing more."""
    def report(self) -> dict[str, Any]:
        """The report of `tinytrain train --stream --report`."""
    @property
    def arrivals(self) -> int: ...
    @property
    def epochs(self) -> int: ...
    @property
    def paused(self) -> Optional[str]: ...
    @property
    def drifts(self) -> int: ...
    @property
    def widths(self) -> list[int]: ...
