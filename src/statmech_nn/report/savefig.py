"""The one way report/ writes a figure: the Agg backend, PNG at a fixed resolution, parent folders created, the
figure closed after saving (so that long runs do not accumulate open figures).

    from .savefig import plt, save_figure
    fig, ax = plt.subplots()
    ...
    return save_figure(fig, out / "name.png")
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 120

__all__ = ["DPI", "plt", "save_figure"]


def save_figure(fig, path, *, dpi: int = DPI, tight: bool = True) -> Path:
    """Save ``fig`` to ``path`` (tight layout unless ``tight=False``), close it, and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
