"""The source documents' architectures, built from a short spec string.

=====================================  =================================================================
spec                                   network
=====================================  =================================================================
``mlp`` / ``mlp:784-700-476-10``       002 §5: fully connected ReLU net; default input-700-476-classes.
                                       The full width list (input first, classes last) is checked
                                       against the data set.
``ff`` / ``ff:…``                      001's deep feed-forward net: input-500-400-200-200-classes.
``cnn`` / ``cnn:32-64-64/256-128``     001's CNN: 3 conv (3x3, padding 1, ReLU, 2x2 max-pool while the
                                       image is ≥ 2 px) then 3 fully connected layers (two hidden widths
                                       given after ``/``, then the class layer).
``autoencoder`` / ``autoencoder:500``  001's autoencoder: input-500 (ReLU)-input (linear), trained on
                                       the reconstruction error.
``bfmlp:64-32-32-1``                   003's bias-free ReLU MLP (no bias in any layer): the full width list,
                                       input first; one output → the hinge loss on a binary data set,
                                       more outputs → cross-entropy (003 §II.7's setting and its control).
``gated:64-16-16-1,T=0.1``            003 §II.2's bias-free MLP with stochastic gates (:mod:`.gated`) at
                                       temperature T (default 0: ReLU), weights He-normal N(0, 2/n_in)
                                       (the edge of chaos, c = 1 in :mod:`statmech_nn.gates.assembly`);
                                       widths and loss as for ``bfmlp``.
``bfcnn:8-16/32``                      a small bias-free CNN: 3x3 conv layers (no bias, ReLU, 2x2 max-pool
                                       after each while the image is ≥ 2 px), then bias-free FC layers
                                       of the widths after ``/`` and one output (hinge loss, binary data).
``vgg`` / ``vgg:depth=12,width=64``    003's bias-free VGG-style net with one output and the hinge
                                       loss (binary data sets only): depth-2 conv layers (3x3, no bias)
                                       in 5 stages of widths w, 2w, 4w, 8w, 8w, each stage ending with a
                                       2x2 max-pool while the image is ≥ 2 px, then a hidden FC layer
                                       of 8w units and the output unit, all without biases and without
                                       batch norm (which would add biases). Width 64 gives ~10⁷
                                       weights at depth 12, the size 003 reports. 003's supp. H with the
                                       exact layer table is not in the source, so this is our reading.
=====================================  =================================================================

Every network is an ``nn.Sequential`` with named children (``fc1``, ``relu1``, ``conv1``, ``pool1``,
``flatten`` …), so parameter names are stable: ``fc2.weight`` is the second fully connected layer's
(out, in) matrix. Initialization is torch's default (``gated``: He-normal), under ``torch.manual_seed(seed)``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ParameterError
from ..params import require_nonnegative
from .gated import StochasticGate

FAMILIES = ("mlp", "ff", "cnn", "autoencoder", "vgg", "bfmlp", "bfcnn", "gated")
_DEFAULT_HIDDEN = {"mlp": (700, 476), "ff": (500, 400, 200, 200)}
_LOSS = {"mlp": "cross_entropy", "ff": "cross_entropy", "cnn": "cross_entropy", "autoencoder": "reconstruction",
         "vgg": "hinge", "bfcnn": "hinge"}
_VGG_STAGES = (1, 2, 4, 8, 8)


def _ints(text: str, spec: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split("-"))
    except ValueError:
        raise ParameterError("arch", spec, "widths as positive integers separated by '-'") from None
    if not values or min(values) < 1:
        raise ParameterError("arch", spec, "widths as positive integers separated by '-'")
    return values


@dataclass(frozen=True)
class Architecture:
    """A parsed architecture spec; :meth:`build` makes the torch module for a given data set."""

    family: str
    widths: tuple[int, ...] | None = None       # mlp/ff: full list incl. input and classes, when given
    conv_channels: tuple[int, ...] = (32, 64, 64)
    fc_hidden: tuple[int, ...] = (256, 128)
    hidden: int = 500                           # autoencoder
    depth: int = 12                             # vgg
    width: int = 64                             # vgg
    temperature: float = 0.0                    # gated

    @classmethod
    def parse(cls, spec: str) -> Architecture:
        family, _, body = spec.partition(":")
        family = family.strip().lower()
        if family not in FAMILIES:
            raise ParameterError("arch", spec, f"one of {', '.join(FAMILIES)}, optionally followed by ':' and sizes")
        if not body:
            return cls(family)
        if family in ("mlp", "ff"):
            widths = _ints(body, spec)
            if len(widths) < 2:
                raise ParameterError("arch", spec, "at least input and output widths, e.g. mlp:64-700-476-10")
            return cls(family, widths=widths)
        if family == "cnn":
            conv, slash, fc = body.partition("/")
            conv_channels = _ints(conv, spec)
            if len(conv_channels) != 3 or not slash or len(_ints(fc, spec)) != 2:
                raise ParameterError("arch", spec, "cnn:C1-C2-C3/F1-F2 (3 conv layers and 2 hidden FC layers)")
            return cls(family, conv_channels=conv_channels, fc_hidden=_ints(fc, spec))
        if family in ("bfmlp", "gated"):
            sizes, _, option = body.partition(",")
            widths = _ints(sizes, spec)
            if len(widths) < 3:
                raise ParameterError("arch", spec, f"{family}:IN-H1-...-OUT with at least one hidden layer")
            name, _, value = option.partition("=")
            if family == "bfmlp" and option or option and name.strip() != "T":
                raise ParameterError("arch", spec, "bfmlp:IN-H1-...-OUT or gated:IN-H1-...-OUT[,T=temperature]")
            try:
                temperature = float(value) if option else 0.0
            except ValueError:
                raise ParameterError("arch", spec, "a number after T=") from None
            return cls(family, widths=widths, temperature=require_nonnegative("temperature", temperature))
        if family == "bfcnn":
            conv, slash, fc = body.partition("/")
            if not slash:
                raise ParameterError("arch", spec, "bfcnn:C1-C2-.../F1-... (conv channels / hidden FC widths)")
            return cls(family, conv_channels=_ints(conv, spec), fc_hidden=_ints(fc, spec))
        if family == "autoencoder":
            hidden = _ints(body, spec)
            if len(hidden) != 1:
                raise ParameterError("arch", spec, "autoencoder:H with one hidden width")
            return cls(family, hidden=hidden[0])
        options = dict(item.partition("=")[::2] for item in body.split(","))
        if set(options) - {"depth", "width"}:
            raise ParameterError("arch", spec, "vgg:depth=D,width=W")
        depth = _ints(options.get("depth", "12"), spec)[0]
        width = _ints(options.get("width", "64"), spec)[0]
        if depth < 3:
            raise ParameterError("arch depth", depth, ">= 3 (at least one conv layer and two FC layers)")
        return cls(family, depth=depth, width=width)

    @property
    def loss(self) -> str:
        """The objective this family is trained with (see :mod:`.losses`)."""
        if self.family in ("bfmlp", "gated"):
            return "hinge" if self.widths is None or self.widths[-1] == 1 else "cross_entropy"
        return _LOSS[self.family]

    @property
    def is_plain_mlp(self) -> bool:
        """A Linear/ReLU stack with cross-entropy: what the fast SGD engine runs."""
        return self.family in ("mlp", "ff")

    def spec(self) -> str:
        """The canonical spec string (round-trips through :meth:`parse`)."""
        if self.family == "bfcnn":
            return f"bfcnn:{'-'.join(map(str, self.conv_channels))}/{'-'.join(map(str, self.fc_hidden))}"
        if self.family == "gated":
            option = f",T={self.temperature!r}" if self.temperature else ""
            return f"gated:{'-'.join(map(str, self.widths))}{option}"
        if self.family in ("mlp", "ff", "bfmlp"):
            return self.family if self.widths is None else f"{self.family}:{'-'.join(map(str, self.widths))}"
        if self.family == "cnn":
            return f"cnn:{'-'.join(map(str, self.conv_channels))}/{'-'.join(map(str, self.fc_hidden))}"
        if self.family == "autoencoder":
            return f"autoencoder:{self.hidden}"
        return f"vgg:depth={self.depth},width={self.width}"

    def mlp_widths(self, input_dim: int, n_classes: int) -> tuple[int, ...]:
        """The full width list of an mlp/ff net on this data, checked against the given spec."""
        if self.widths is None:
            return (input_dim, *_DEFAULT_HIDDEN[self.family], n_classes)
        if self.widths[0] != input_dim or self.widths[-1] != n_classes:
            raise ParameterError("arch", self.spec(), f"an input width of {input_dim} and an output width of "
                                 f"{n_classes} for this data set")
        return self.widths

    def _bias_free_widths(self, input_dim: int, n_classes: int) -> tuple[int, ...]:
        """bfmlp widths checked against the data: one output (hinge, binary data) or one per class."""
        widths = self.widths or (input_dim, 32, 32, 1)
        if widths[0] != input_dim or widths[-1] not in (1, n_classes) or (widths[-1] == 1 and n_classes != 2):
            raise ParameterError("arch", self.spec(), f"input width {input_dim} and one output (binary data, hinge "
                                 f"loss) or {n_classes} outputs (cross-entropy)")
        return widths

    def build(self, input_shape: tuple[int, ...], n_classes: int, seed: int = 0,
              dtype: torch.dtype = torch.float32) -> nn.Sequential:
        """The torch module for inputs of ``input_shape`` (without the batch axis), initialized under ``seed``."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = self._build(tuple(input_shape), n_classes, seed, dtype)
        return module.to(dtype)

    def _build(self, input_shape, n_classes, seed: int, dtype: torch.dtype) -> nn.Sequential:
        input_dim = 1
        for size in input_shape:
            input_dim *= size
        flatten = [nn.Flatten()] if len(input_shape) > 1 else []
        if self.family in ("mlp", "ff"):
            return _named([*flatten, *_dense_stack(self.mlp_widths(input_dim, n_classes))])
        if self.family == "autoencoder":
            return _named([*flatten, *_dense_stack((input_dim, self.hidden, input_dim))])
        if self.family == "bfmlp":
            return _named([*flatten, *_dense_stack(self._bias_free_widths(input_dim, n_classes), bias=False)])
        if self.family == "gated":
            return _named([*flatten, *_gated_stack(self._bias_free_widths(input_dim, n_classes), self.temperature,
                                                   seed, dtype)])
        if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
            raise ParameterError("arch", self.spec(), f"square images (C, H, H); this data set has shape {input_shape}")
        if self.family == "cnn":
            convs, channels, size = _conv_stack(input_shape, self.conv_channels, pool_after=(1, 2, 3), bias=True)
            dense = _dense_stack((channels * size * size, *self.fc_hidden, n_classes))
            return _named([*convs, nn.Flatten(), *dense])
        if n_classes != 2:
            raise ParameterError("arch", self.spec(), "a binary data set (append -binary to the data set name) "
                                 "for a hinge-loss network")
        if self.family == "bfcnn":
            convs, channels, size = _conv_stack(input_shape, self.conv_channels,
                                                pool_after=range(1, len(self.conv_channels) + 1), bias=False)
            dense = _dense_stack((channels * size * size, *self.fc_hidden, 1), bias=False)
            return _named([*convs, nn.Flatten(), *dense])
        n_conv, n_stages = self.depth - 2, len(_VGG_STAGES)
        per_stage = [n for n in (n_conv // n_stages + (i < n_conv % n_stages) for i in range(n_stages)) if n > 0]
        channels = [self.width * _VGG_STAGES[i] for i, n in enumerate(per_stage) for _ in range(n)]
        stage_ends = tuple(sum(per_stage[: i + 1]) for i in range(len(per_stage)))
        convs, out_channels, size = _conv_stack(input_shape, channels, pool_after=stage_ends, bias=False)
        dense = _dense_stack((out_channels * size * size, 8 * self.width, 1), bias=False)
        return _named([*convs, nn.Flatten(), *dense])


def _dense_stack(widths, *, bias: bool = True) -> list[nn.Module]:
    """Linear, ReLU, Linear, ReLU, …, Linear (no activation after the last layer)."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(n_in, n_out, bias=bias), nn.ReLU()]
    return layers[:-1]


def _gated_stack(widths, temperature: float, seed: int, dtype: torch.dtype) -> list[nn.Module]:
    """Bias-free Linear layers (He-normal, created in ``dtype``) with a :class:`StochasticGate` after each but the
    last; gate layer l draws its gates from the stream (seed, l)."""
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        linear = nn.Linear(n_in, n_out, bias=False, dtype=dtype)
        nn.init.normal_(linear.weight, 0.0, (2.0 / n_in) ** 0.5)
        layers += [linear, StochasticGate(temperature, seed, index)]
    return layers[:-1]


def bias_free_mlp(widths, temperature: float = 0.0, seed: int = 0, dtype=torch.float64) -> nn.Sequential:
    """The ``gated`` network of the full width list ``widths`` (input first) on flat inputs."""
    widths = tuple(int(w) for w in widths)
    arch = Architecture.parse(f"gated:{'-'.join(map(str, widths))},T={temperature!r}")
    return arch.build((widths[0],), 2 if widths[-1] == 1 else widths[-1], seed=seed, dtype=dtype)


def _conv_stack(input_shape, channels, *, pool_after, bias: bool):
    """3x3 conv + ReLU layers, with a 2x2 max-pool after the listed layer numbers while the image is ≥ 2 px."""
    in_channels, size = input_shape[0], input_shape[1]
    layers: list[nn.Module] = []
    for index, out_channels in enumerate(channels, start=1):
        layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias), nn.ReLU()]
        if index in pool_after and size >= 2:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        in_channels = out_channels
    return layers, in_channels, size


_PREFIX = {nn.Linear: "fc", nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool", StochasticGate: "gate"}


def _named(layers: list[nn.Module]) -> nn.Sequential:
    """Name the children by kind and order: fc1, fc2 …, conv1 …, relu1 …, pool1 …, flatten."""
    counts: dict[str, int] = {}
    named = []
    for layer in layers:
        prefix = _PREFIX.get(type(layer))
        if prefix is None:
            named.append(("flatten", layer))
            continue
        counts[prefix] = counts.get(prefix, 0) + 1
        named.append((f"{prefix}{counts[prefix]}", layer))
    return nn.Sequential(OrderedDict(named))
