"""PyTorch's weights both ways (needs ``torch``: ``pip install tinytrain[torch]``).

A tinytrain model is, in PyTorch's terms, ``nn.Sequential(Linear, ReLU, …, ReLU, Linear)``
between a standardisation of the inputs and its inverse on the outputs. Standardisation has no
place in an ``nn.Sequential``, so the state_dict layout (:meth:`tinytrain.Model.state_dict`,
``tinytrain export --safetensors``) carries it as four extra tensors, ``input_mean``,
``input_std``, ``target_mean``, ``target_std``; :class:`Standardized` wraps the network with
them.

- :func:`to_torch`: a :class:`tinytrain.Model` as a :class:`Standardized` module;
- :func:`load_safetensors`: the same from a safetensors file;
- :func:`standardized`: wraps an ``nn.Sequential`` already loaded with a state_dict's weights;
- :func:`from_torch`: an ``nn.Sequential`` (or a :class:`Standardized`) as a
  :class:`tinytrain.Model`, to save, predict with the device's arithmetic, or flash.
"""

import torch
from torch import nn

from ._tinytrain import Model

__all__ = ["Standardized", "from_torch", "load_safetensors", "standardized", "to_torch"]

STATS = ("input_mean", "input_std", "target_mean", "target_std")


class Standardized(nn.Module):
    """``net((x - input_mean) / input_std) * target_std + target_mean``: what a tinytrain
    model computes, around an ``nn.Sequential`` ``net``. The statistics are buffers of shapes
    ``(n_inputs,)`` and ``(n_outputs,)``."""

    def __init__(self, net, input_mean, input_std, target_mean, target_std):
        super().__init__()
        self.net = net
        for name, value in zip(STATS, (input_mean, input_std, target_mean, target_std)):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32))

    def forward(self, x):
        y = self.net((x - self.input_mean) / self.input_std)
        return y * self.target_std + self.target_mean


def _sequential(tensors):
    """An ``nn.Sequential(Linear, ReLU, …, Linear)`` shaped and loaded from a state_dict's
    layer tensors (``0.weight`` …). The tensors are checked by tinytrain first."""
    weights = sorted(
        (int(k.split(".")[0]), v) for k, v in tensors.items() if k.endswith(".weight")
    )
    layers = []
    for k, (_, w) in enumerate(weights):
        if k:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(w.shape[1], w.shape[0]))
    net = nn.Sequential(*layers)
    net.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items() if k not in STATS})
    return net


def standardized(net, state_dict):
    """Wraps ``net`` (an ``nn.Sequential`` loaded with ``state_dict``'s layer tensors) with
    the standardisation tensors of ``state_dict`` (a mapping of names to tensors or arrays)."""
    return Standardized(net, *(state_dict[name] for name in STATS))


def to_torch(model):
    """``model`` (a :class:`tinytrain.Model`) as a :class:`Standardized` ``nn.Sequential``,
    ``float32``, on the CPU."""
    tensors = model.state_dict()
    return standardized(_sequential(tensors), tensors)


def load_safetensors(path):
    """Reads a safetensors file in tinytrain's layout (``tinytrain export --safetensors``) as a
    :class:`Standardized` ``nn.Sequential``; the file is checked by tinytrain first (raises
    :class:`tinytrain.ModelError` naming the first unexpected tensor)."""
    return to_torch(Model.import_safetensors(path))


def from_torch(module, input_mean=None, input_std=None, target_mean=None, target_std=None):
    """A :class:`tinytrain.Model` from ``module``: an ``nn.Sequential(Linear, ReLU, …, Linear)``
    (standardisation from the four optional arguments, else none) or a :class:`Standardized`.
    The weights are converted to ``float32`` numpy arrays; raises
    :class:`tinytrain.ModelError` naming the first tensor that is not a plain MLP's."""
    stats = (input_mean, input_std, target_mean, target_std)
    if isinstance(module, Standardized):
        stats = tuple(getattr(module, name) for name in STATS)
        module = module.net
    tensors = {k: v.detach().cpu().float().numpy() for k, v in module.state_dict().items()}
    given = [s is not None for s in stats]
    if any(given):
        if not all(given):
            raise ValueError("give all four standardisation statistics or none")
        for name, value in zip(STATS, stats):
            tensors[name] = torch.as_tensor(value).detach().cpu().float().numpy()
    return Model.from_state_dict(tensors)
