"""Device selection: ``auto`` takes a CUDA GPU when torch sees one, else the CPU."""

from __future__ import annotations

import torch

from ..errors import ParameterError
from .config import DTYPES

_TORCH_DTYPES = {name: getattr(torch, name) for name in DTYPES}


def resolve_device(name: str) -> torch.device:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` → a torch device that exists on this machine."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ParameterError("device", name, "auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device", name, "auto or cpu (torch sees no CUDA device on this machine)")
    if device.type not in ("cpu", "cuda"):
        raise ParameterError("device", name, "auto, cpu, cuda or cuda:N")
    return device


def resolve_dtype(name: str) -> torch.dtype:
    if name not in _TORCH_DTYPES:
        raise ParameterError("dtype", name, f"one of {', '.join(DTYPES)}")
    return _TORCH_DTYPES[name]
