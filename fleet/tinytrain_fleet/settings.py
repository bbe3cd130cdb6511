"""The settings of a federation: Flower's run config (``[tool.flwr.app.config]`` in
``pyproject.toml``, ``flwr run --run-config``) read into one checked value."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping

from .data import FEATURES


@dataclass(frozen=True)
class Settings:
    """What every ServerApp and ClientApp of a run agrees on. Field ``local_epochs`` is the
    run config's ``local-epochs``, and so on."""

    #: Federated rounds (each: train on the sampled devices, aggregate, evaluate).
    num_server_rounds: int = 60
    #: Share of the devices sampled to train in a round (at least 2 devices).
    fraction_train: float = 0.2
    #: Share of the devices sampled to report their validation loss in a round (0: none).
    fraction_evaluate: float = 0.2
    #: Epochs each sampled device trains from the global weights (E).
    local_epochs: int = 5
    #: The devices' optimizer: ``adam``, ``momentum`` or ``sgd``.
    optimizer: str = "adam"
    #: Its learning rate.
    learning_rate: float = 0.001
    #: Samples per mini-batch.
    batch_size: int = 32
    #: Hidden widths, comma-separated (``""``: the linear model).
    hidden: str = "16,16"
    #: How a simulated device trains from the global weights: ``trainer`` — ``local-epochs``
    #: epochs of ``tinytrain.train``, its optimizer's moments kept between rounds — or
    #: ``stream`` — one pass of its training split, shuffled, through ``tinytrain.Stream``
    #: (the stream driver the emulated board runs, bit for bit), a fresh optimizer each round.
    driver: str = "trainer"
    #: The stream driver's replay buffer (training samples it holds).
    stream_replay: int = 256
    #: The stream driver steps after every this many arriving samples ...
    stream_every: int = 1
    #: ... this many mini-batch steps.
    stream_steps_per: int = 4
    #: The device trained by the emulated board (QEMU mps2-an386 running the link firmware,
    #: through ``tinytrain device train``; it learns with the stream driver whatever
    #: ``driver`` says); -1: none.
    board: int = -1
    #: Seconds the emulated board may take for a round's training before it is stopped and
    #: the device left out of the round.
    board_timeout: float = 300.0
    #: Seeds the initial weights, the devices' sampling and their shuffles.
    seed: int = 1
    #: Use this many of the diamonds (0: all 53,920), drawn with ``split_seed``.
    samples: int = 0
    #: Seeds the devices' splits (and the draw of ``samples``): fixed across seeds of a study.
    split_seed: int = 0
    #: The ServerApp scores each round's global model on the pooled test set (simulation only:
    #: a real server holds no data).
    server_test: bool = False
    #: SuperNodes to wait for before the first round (0: those connected when the run starts).
    devices: int = 0
    #: Seconds to wait for the devices' replies in a round.
    timeout: float = 600.0
    #: Directory for the global model and the history (``""``: nothing written).
    out_dir: str = ""

    @property
    def widths(self) -> list[int]:
        """The layer widths, input first: nine inputs, the hidden widths, one output."""
        hidden = [int(w) for w in self.hidden.split(",") if w.strip()]
        return [len(FEATURES), *hidden, 1]

    @classmethod
    def from_run_config(cls, config: Mapping[str, Any]) -> "Settings":
        """Reads Flower's run config (kebab-case keys); keys it lacks keep their defaults, and
        an unknown key is an error (a typo would silently change nothing)."""
        known = {f.name.replace("_", "-"): f for f in fields(cls)}
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"unknown run config keys {unknown}; known: {sorted(known)}")
        values = {}
        for key, value in config.items():
            field = known[key]
            values[field.name] = parse(key, value, type(getattr(cls(), field.name)))
        return cls(**values).checked()

    def to_run_config(self) -> dict[str, Any]:
        """The run config that reads back to these settings."""
        return {k.replace("_", "-"): v for k, v in asdict(self).items()}

    def checked(self) -> "Settings":
        """These settings, or a ``ValueError`` naming the first one out of range."""
        if self.num_server_rounds < 1:
            raise ValueError(f"num-server-rounds {self.num_server_rounds}: at least 1")
        if not 0 < self.fraction_train <= 1 or not 0 <= self.fraction_evaluate <= 1:
            raise ValueError("fraction-train must be in (0, 1], fraction-evaluate in [0, 1]")
        if self.local_epochs < 1:
            raise ValueError(f"local-epochs {self.local_epochs}: at least 1")
        if self.optimizer not in ("adam", "momentum", "sgd"):
            raise ValueError(f"optimizer {self.optimizer!r}: adam, momentum or sgd")
        if self.driver not in ("trainer", "stream"):
            raise ValueError(f"driver {self.driver!r}: trainer or stream")
        if min(self.stream_replay, self.stream_every, self.stream_steps_per) < 1:
            raise ValueError("stream-replay, stream-every and stream-steps-per: at least 1")
        if self.board < -1 or self.board_timeout <= 0:
            raise ValueError(f"board {self.board}: a device id or -1 (none); "
                             f"board-timeout {self.board_timeout}: positive")
        self.widths  # parses
        return self

    def but(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` (field names), checked."""
        return replace(self, **changes).checked()


def parse(key: str, value: Any, kind: type) -> Any:
    """``value`` (from TOML or ``KEY=VALUE`` text) as a setting of type ``kind``."""
    if isinstance(value, str) and kind is bool:
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{key} = {value!r}: true or false")
        return value.lower() == "true"
    if isinstance(value, bool) and kind is not bool:
        raise ValueError(f"{key} = {value!r}: a {kind.__name__}, not a boolean")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} = {value!r}: a {kind.__name__}") from None
