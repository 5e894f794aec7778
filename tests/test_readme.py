"""Every shell command of README.md runs as printed (issue 12): in the order printed, in one empty directory.

The commands are the lines of the README's plain code blocks (not ```python blocks) that start with
``statmech-nn`` or ``python``, continuation lines (``\\``) joined. A command whose comment says
``full size`` (minutes to hours, or downloaded data) is not run: the README shows its small variant on the
line before, and that one is run. ``make`` lines are not run (``make test`` runs this test); the targets
they name must exist in the Makefile. Each command must exit 0; one with ``--json`` must print one JSON object.
They run in this process, through the CLI's ``main``; one query command also runs as printed in a shell, through
the installed ``statmech-nn`` entry point.
"""

import json
import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from statmech_nn.cli import main

REPO = Path(__file__).resolve().parents[1]
FULL_SIZE = re.compile(r"#\s*full size")


def readme_commands() -> list[str]:
    """The shell command lines of README.md's plain code blocks, continuations joined, in order."""
    commands, fence, pending = [], None, ""
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None   # the language of the block being read
            continue
        if fence != "":
            continue
        line = pending + line.strip() if pending else line
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        pending = ""
        if line.split(" ", 1)[0] in ("statmech-nn", "python", "make"):
            commands.append(line)
    return commands


COMMANDS = readme_commands()
RUN = [c for c in COMMANDS if not c.startswith("make ") and not FULL_SIZE.search(c)]


def test_the_readme_has_commands_and_full_size_ones_have_a_small_variant():
    assert len(RUN) >= 25
    for command in COMMANDS:
        if FULL_SIZE.search(command):
            words = command.split()[:2]
            assert any(c.split()[:2] == words for c in RUN), f"no small variant of: {command}"


def test_make_targets_exist():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    for command in (c for c in COMMANDS if c.startswith("make ")):
        assert command.split()[1] in targets, command


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One empty directory for all commands (later ones use what earlier ones wrote)."""
    return tmp_path_factory.mktemp("readme")


def run_in_process(command: str) -> int:
    """``statmech-nn ...`` through the CLI's ``main``, ``python -c CODE`` / ``python FILE`` in this interpreter;
    the exit status."""
    words = shlex.split(command, comments=True)
    if words[0] == "python":
        if words[1] == "-c":
            exec(compile(words[2], "<README.md>", "exec"), {"__name__": "__main__"})
        else:
            runpy.run_path(words[1], run_name="__main__")
        return 0
    return main(words[1:])


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")       # commands that set torch's threads do so in this process
@pytest.mark.parametrize("command", RUN, ids=[f"{i:02d} " + " ".join(c.split()[:3]) for i, c in enumerate(RUN)])
def test_readme_command_runs_as_printed(workdir, monkeypatch, capsys, command):
    monkeypatch.chdir(workdir)
    status = run_in_process(command)
    captured = capsys.readouterr()
    assert status == 0, f"{command}\n{captured.err[-3000:]}"
    if "--json" in shlex.split(command, comments=True):
        json.loads(captured.out)


SMOKE = next(c for c in RUN if c.startswith("statmech-nn ") and "--json" in c and "--out" not in c)


@pytest.mark.slow
def test_one_readme_command_runs_as_printed_in_a_shell(tmp_path):
    """The installed entry point, through bash, exactly as printed (the others run through ``main``)."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "statmech-nn").exists(), "install the package (make install) so that statmech-nn is on PATH"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", SMOKE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{SMOKE}\n{result.stderr[-3000:]}"
    json.loads(result.stdout)


def test_the_readme_counts_the_planted_scenarios_there_are():
    from statmech_nn.compare.planted import scenarios

    count = re.search(r"`statmech_nn\.compare\.planted`: (\d+) scenarios", (REPO / "README.md").read_text())
    assert count and int(count.group(1)) == len(scenarios())
