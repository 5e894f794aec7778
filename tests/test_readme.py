"""Every shell command of README.md runs as printed (issue 12): in the order printed, in one empty directory.

The commands are the lines of the README's plain code blocks (not ```python blocks) that start with
``statmech-nn`` or ``python``, continuation lines (``\\``) joined. A command whose comment says
``full size`` (minutes to hours, or downloaded data) is not run: the README shows its small variant on the
line before, and that one is run. ``make`` lines are not run (``make test`` runs this test); the targets
they name must exist in the Makefile. Each command must exit 0; one with ``--json`` must print one JSON object.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    for index, command in enumerate(COMMANDS):
        if FULL_SIZE.search(command):
            words = command.split()[:2]
            assert any(c.split()[:2] == words for c in RUN), f"no small variant of: {command}"


def test_make_targets_exist():
    targets = set(re.findall(r"^([a-z]+):", (REPO / "Makefile").read_text(), flags=re.M))
    for command in (c for c in COMMANDS if c.startswith("make ")):
        assert command.split()[1] in targets, command


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One empty directory for all commands (later ones use what earlier ones wrote); `statmech-nn` and
    `python` are this interpreter's."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "statmech-nn").exists(), "install the package (make install) so that statmech-nn is on PATH"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return tmp_path_factory.mktemp("readme"), env


@pytest.mark.slow
@pytest.mark.parametrize("command", RUN, ids=[f"{i:02d} " + " ".join(c.split()[:3]) for i, c in enumerate(RUN)])
def test_readme_command_runs_as_printed(workdir, command):
    cwd, env = workdir
    result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
    if "--json" in command.split("#")[0].split():
        json.loads(result.stdout)
