"""What every subcommand shares: one-line errors with exit status 2, and ``--json`` output.

DESIGN: the CLI is thin (parse, call the library, print); query commands take ``--json`` and
print one JSON object on stdout; bad input exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import sys

from ..params import LARGE_FLAG, jsonable

EXIT_USAGE = 2

COMMANDS = {  # command name: (area module of statmech_nn.cli that registers it, one-line help)
    "validate": ("validate_commands", "run a reproduction protocol end to end into one report"),
    "quartic": ("quartic_commands", "the quartic toy model of 002 sec. 2"),
    "derive": ("quartic_commands", "print a model's formulas, derived symbolically"),
    "scan": ("scan_commands", "parameter-space phase scans"),
    "sample": ("sampling_commands", "sample p(x, q): exact, Metropolis-Hastings, two-timescale Langevin"),
    "cw": ("meanfield_commands", "Curie-Weiss magnet: exact sums, mean field, Monte Carlo (001)"),
    "hs": ("meanfield_commands", "general couplings: Hubbard-Stratonovich saddle point (001)"),
    "train": ("networks_commands", "train a network; track weights every step (002 §5 protocol)"),
    "probe": ("networks_commands", "probe a trained network: p(x|q), activation patterns, unit frequencies, "
                                   "layer activations, weight histograms"),
    "fit-powerlaw": ("analyze_commands", "fit a power law to the values in a file (Clauset-Shalizi-Newman)"),
    "analyze": ("analyze_commands", "observables, theory fits and figures of a run directory"),
    "check": ("check_commands", "check the source documents' claims against closed forms"),
    "calibrate": ("calibrate_commands", "the verdicts' error rates on planted data with a known truth"),
    "gates": ("gates_commands",
              "stochastic neuronal gates: output law of a bias-free MLP (exact, Monte Carlo, mean field; 003)"),
    "circuits": ("gates_commands",
                 "basis circuits of a trained bias-free network: circuit-symmetry statistics (003 Fig. 3b)"),
    "assembly": ("gates_commands",
                 "assembly moments against depth and width at the edge of chaos (003 eq. (20))"),
    "capacity": ("gates_commands",
                 "capacity phase scan: width x data complexity x gate temperature (003 plasticity)"),
    "hessian": ("hessian_commands",
                "Hessian spectra, bootstrap Hessian entries and order parameter of a trained network (003)"),
}


class UsageError(Exception):
    """Raised instead of argparse's multi-line usage message."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a long command, carrying what was done, e.g. "2 of 6 cells done"; still a
    KeyboardInterrupt, so that the run's outcome is recorded as interrupted."""


# A negative number in any notation: -2, -.5, -0.5, -2e-02, -1E3, -inf. argparse's own pattern (-2, -.5) takes
# "-2e-02" for an option ("expected one argument"); no option of ours looks like a number, so this is safe.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one line and exit status 2 (via :func:`main`), and that reads a
    negative number in any notation as a value (:data:`NEGATIVE_NUMBER`); its subcommands' parsers are Parsers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message):  # noqa: D401 - argparse API
        raise UsageError(f"{self.prog}: {message}")


def add_command(subparsers, name: str, **kwargs) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` with its help line from :data:`COMMANDS`."""
    return subparsers.add_parser(name, help=COMMANDS[name][1], **kwargs)


def _checked(text: str, kind, holds, requirement: str):
    """``kind(text)`` if it parses and ``holds`` for it, else argparse's error ``must be <requirement>``."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not holds(value):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
    return value


def seed(text: str) -> int:
    """argparse type of ``--seed``: an integer in [0, 2**63) (what numpy's and torch's generators take)."""
    return _checked(text, int, lambda v: 0 <= v < 2**63, "an integer in [0, 2^63)")


def finite(text: str) -> float:
    """argparse type of a number that must be finite (NaN and infinity refused at parse time)."""
    return _checked(text, float, math.isfinite, "a finite number")


def positive(text: str) -> float:
    """argparse type of a finite number > 0."""
    return _checked(text, float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")


def count(text: str) -> int:
    """argparse type of an integer >= 1."""
    return _checked(text, int, lambda v: v >= 1, "an integer >= 1")


def out_path(text: str) -> str:
    """argparse type of ``--out``: a non-empty path (an empty one would write into the working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a non-empty path")
    return text


def input_file(text: str) -> str:
    """argparse type of an input file: an existing regular file (a FIFO or a device would block or never end;
    checked with ``os.stat`` before anything opens it)."""
    try:
        mode = os.stat(text).st_mode
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"no such file: {text!r}") from None
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text!r}: {exc}") from None
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular file")
    return text


def add_large_flag(parser: argparse.ArgumentParser) -> None:
    """The one flag that confirms a run beyond the memory or time budget (:func:`statmech_nn.params.require_budget`)."""
    parser.add_argument(LARGE_FLAG, dest="yes_large", action="store_true",
                        help="run even when the estimated memory exceeds half the RAM or the work a day")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_allow_incomplete(parser: argparse.ArgumentParser) -> None:
    """``--allow-incomplete``: read a run that did not complete (its result says so); default: refuse it."""
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="use a run that did not complete (diverged, interrupted, failed); the result is flagged")


def emit(payload: dict, as_json: bool, text: str | None = None) -> None:
    """Print ``payload`` as one JSON object, or ``text`` (default: key = value lines)."""
    if as_json:
        print(json.dumps(jsonable(payload), allow_nan=False))
        return
    if text is None:
        text = "\n".join(f"{key} = {value}" for key, value in jsonable(payload).items())
    print(text)


def close_progress_bars() -> None:
    """Close any progress bar still drawn (tqdm, stderr), so that an error line starts a line of its own."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ())):
        bar.close()


def fail(message: str) -> int:
    """Print one line on stderr (after closing any progress bar) and return the usage exit status."""
    close_progress_bars()
    print(f"statmech-nn: error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_USAGE
