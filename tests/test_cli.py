"""The entry point: every command is registered by the area named in COMMANDS, and
``statmech-nn --help`` imports none of the heavy libraries the areas need."""

from __future__ import annotations

import subprocess
import sys

import pytest

from statmech_nn.cli import build_parser, main
from statmech_nn.cli._common import COMMANDS


def _subcommands(parser, dest="command"):
    return next(a for a in parser._actions if a.dest == dest).choices


def _runnable(parser) -> bool:
    """A handler on the parser, or on every action of its own subcommands (``quartic pdf``...)."""
    if parser.get_default("handler") is not None:
        return True
    nested = [a for a in parser._actions if a.choices and a.dest.endswith(("_command", "_model"))]
    return bool(nested) and all(_runnable(p) for a in nested for p in a.choices.values())


def test_every_area_registers_exactly_its_commands():
    full = _subcommands(build_parser("*"))
    assert list(sorted(full)) == sorted(COMMANDS)
    for name, parser in full.items():
        assert _runnable(parser), name


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_selecting_one_command_builds_its_full_parser(command):
    assert _runnable(_subcommands(build_parser(command))[command])


def test_top_level_help_is_light():
    code = ("import sys\nfrom statmech_nn.cli import build_parser\nbuild_parser().format_help()\n"
            "heavy = [m for m in ('numba', 'torch', 'xarray', 'scipy', 'matplotlib', 'h5py') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_command_is_one_line_and_exit_2(capsys):
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice" in err[0]


def test_missing_command_is_exit_2(capsys):
    assert main([]) == 2
    assert "a command is required" in capsys.readouterr().err
