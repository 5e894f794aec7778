"""Hostile input to every command (issue 12): generated bad values and bad files must end in exit status 2, exactly one
line on stderr, no traceback, and nothing written in the working directory (each case runs in an empty one).

The commands come from :data:`statmech_nn.cli._common.COMMANDS`: a command without an entry in :data:`FUZZ` fails
:func:`test_every_command_has_a_fuzz_spec`. Each entry is a cheap base command line (valid except for what is fuzzed)
and, per option, the bad values to try. Commands that would train or sample get bad values only for options that are
checked before any work. Bad files are made once per module: empty, binary garbage, the wrong format, non-UTF-8,
a directory, a FIFO.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statmech_nn.cli import main
from statmech_nn.cli._common import COMMANDS

NOT_FINITE = ["nan", "inf", "-inf", "NaN", "x", ""]
NOT_POSITIVE = [*NOT_FINITE, "0", "-1", "-1e-300"]
NOT_NONNEGATIVE = [*NOT_FINITE, "-1", "-1e-300"]
NOT_COUNT = ["0", "-1", "1.5", "nan", "x", "", "1e3"]                       # integers >= 1
HUGE_COUNT = [str(10**20), str(10**13)]                                      # refused by the size budget
NOT_SEED = ["-1", str(2**64), "1.5", "x", ""]
NOT_OUT = [""]
BAD_GRIDS = ["alpha", "alpha=1:2", "alpha=1:2:0", "alpha=nan:2:3", "alpha=1:inf:3", "alpha=1:2:-3", "=1:2:3",
             f"alpha=1:2:{10**20}", "alpha=-1:2:3log", "alpha=1:2:x"]
BAD_FILES = ["missing", "empty", "garbage", "text_as_npy", "non_utf8", "directory", "fifo"]
BAD_RUN_DIRS = ["missing", "empty_dir", "garbage", "run_json_list", "run_json_without_parameters"]

# command: (base argv with {placeholders}, {option: bad values}); an option "@" is the first positional argument
QUARTIC = ["--lambda-x", "0.1", "--g", "1", "--lambda-q", "1", "--alpha", "2.5", "--beta", "1"]
FUZZ = {
    "validate": (["validate", "{toml}"], {"@": ["missing", "garbage", "text_as_npy", "non_utf8", "directory", "fifo",
                                                "bad_spec_table", "bad_spec_acceptance"], "--out": NOT_OUT}),
    "quartic": (["quartic", "pdf", *QUARTIC, "--q", "0"],
                {"--lambda-x": NOT_FINITE, "--g": [*NOT_POSITIVE, "1e308"], "--lambda-q": NOT_NONNEGATIVE,
                 "--alpha": [*NOT_POSITIVE, "1e-306"], "--beta": [*NOT_POSITIVE, "1e308"], "--mu": NOT_NONNEGATIVE,
                 "--q": NOT_FINITE, "--model": ["missing", "garbage", "non_utf8", "directory", "fifo", "bool_toml",
                                                "number_table_toml"]}),
    "derive": (["derive", "{quartic_name}"], {"@": ["", "x", "nan"]}),
    "scan": (["scan", "quartic", "--grid", "alpha=1:2:2", "--lambda-x", "0.1", "--g", "1", "--lambda-q", "1",
              "--beta", "1", "--out", "o.nc", "--no-figures"],
             {"--beta": [*NOT_POSITIVE, "1e308"], "--g": NOT_POSITIVE, "--mu": NOT_NONNEGATIVE, "--grid": BAD_GRIDS,
              "--out": NOT_OUT}),
    "sample": (["sample", "quartic", *QUARTIC, "--method", "langevin", "--chains", "2", "--steps", "100"],
               {"--chains": [*NOT_COUNT, *HUGE_COUNT], "--steps": [*NOT_COUNT, *HUGE_COUNT], "--seed": NOT_SEED,
                "--epsilon": NOT_POSITIVE, "--dt": NOT_POSITIVE, "--threads": ["0", "-1", "x", ""],
                "--out": NOT_OUT, "--beta": NOT_POSITIVE, "--burn-in": ["-1", "x", "nan", str(10**20)],
                "--thin": ["0", "-1", "x"], "--step-scale": NOT_POSITIVE}),
    "cw": (["cw", "--method", "mc", "--n", "10", "--beta", "1", "--sweeps", "10", "--chains", "2"],
           {"--n": [*NOT_COUNT, *HUGE_COUNT], "--beta": [*NOT_POSITIVE, "1e308"], "--j": [*NOT_FINITE, "1e308"],
            "--b": [*NOT_FINITE, "1e308"], "--sweeps": [*NOT_COUNT, *HUGE_COUNT], "--chains": [*NOT_COUNT, *HUGE_COUNT],
            "--seed": NOT_SEED}),
    "hs": (["hs", "--weights", "{weights}", "--beta", "1"],
           {"--weights": [*BAD_FILES, "empty_npy", "complex_npy"], "--beta": [*NOT_POSITIVE, "1e308"],
            "--h": [*NOT_FINITE, "1e308"], "--seed": NOT_SEED, "--random-starts": ["-1", "x", str(10**20)]}),
    "train": (["train", "--arch", "mlp:64-8-10", "--dataset", "digits", "--steps", "10", "--out", "o"],
              {"--steps": [*NOT_COUNT, *HUGE_COUNT], "--seed": NOT_SEED, "--out": NOT_OUT, "--lr": NOT_POSITIVE,
               "--batch-size": NOT_COUNT}),
    "probe": (["probe", "{run}", "--out", "o"], {"@": BAD_RUN_DIRS, "--seed": NOT_SEED, "--out": NOT_OUT}),
    "fit-powerlaw": (["fit-powerlaw", "{values}"],
                     {"@": BAD_FILES, "--seed": NOT_SEED, "--gof": [*NOT_COUNT, str(10**12)],
                      "--xmin": NOT_POSITIVE}),
    "analyze": (["analyze", "{trajectory}", "--out", "o"],
                {"@": BAD_RUN_DIRS, "--lag": NOT_COUNT, "--window": NOT_COUNT, "--per-decade": NOT_COUNT,
                 "--seed": NOT_SEED, "--low-band": ["x", "1", "2:1", "0:1", "nan:1"], "--out": NOT_OUT}),
    "check": (["check"], {"--claims-dir": ["missing", "garbage"]}),
    "gates": (["gates", "--weights", "{npz}", "--input", "{vector}", "--temperature", "0.5"],
              {"--weights": BAD_FILES, "--input": BAD_FILES, "--temperature": ["nan", "inf", "-1", "x", ""],
               "--seed": NOT_SEED}),
    "circuits": (["circuits", "{run}", "--out", "o"], {"@": BAD_RUN_DIRS, "--seed": NOT_SEED, "--out": NOT_OUT}),
    "assembly": (["assembly", "--depths", "2", "--widths", "4", "--networks", "2", "--out", "o"],
                 {"--seed": NOT_SEED, "--out": NOT_OUT, "--networks": [*NOT_COUNT, *HUGE_COUNT],
                  "--c": NOT_POSITIVE, "--mu": NOT_FINITE, "--depths": ["x", "", "0", "-1", "1.5", str(10**20)],
                  "--widths": ["x", "", "0", str(10**20)]}),
    "capacity": (["capacity", "--widths", "2", "--n-train", "8", "--steps", "2", "--out", "o.nc"],
                 {"--seed": NOT_SEED, "--out": NOT_OUT, "--steps": [*NOT_COUNT, *HUGE_COUNT], "--lr": NOT_POSITIVE,
                  "--workers": ["0", "-1", "x"], "--widths": ["x", "0", str(10**20)],
                  "--n-train": ["0", "x", str(10**20)], "--label-noise": ["nan", "-1", "2", "x"],
                  "--temperatures": ["nan", "-1", "x"]}),
    "hessian": (["hessian", "{run}", "--out", "o"], {"@": BAD_RUN_DIRS, "--seed": NOT_SEED, "--out": NOT_OUT}),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good inputs for the base command lines and every kind of bad file, outside the working directory."""
    root = tmp_path_factory.mktemp("fuzz_inputs")
    made = {}

    def write(name, data: bytes):
        made[name] = root / name
        made[name].write_bytes(data)

    write("empty", b"")
    write("garbage", bytes(np.random.default_rng(0).integers(0, 256, 512, dtype=np.uint8)))
    write("text.npy", b"1 2 3\n")
    made["text_as_npy"] = made.pop("text.npy")
    write("non_utf8", b"\xff\xfe[parameters]\nbeta = 1\n")
    write("bool_toml", b"[parameters]\nlambda_x = true\ng = 1\nlambda_q = 1\nalpha = 1\nbeta = 1\n")
    write("number_table_toml", b"parameters = 5\n")
    write("bad_spec_table", b"experiment = 3\n")
    write("bad_spec_acceptance", b"[acceptance]\nmin_test_acuracy = 0.5\n")
    write("values", " ".join(str(v) for v in np.arange(1, 60)).encode())
    write("toml", b"[experiment]\nname = 'x'\n")
    made["missing"] = root / "does-not-exist"
    made["directory"] = root / "a_directory"
    made["directory"].mkdir()
    made["empty_dir"] = root / "empty_dir"
    made["empty_dir"].mkdir()
    made["fifo"] = root / "fifo"
    os.mkfifo(made["fifo"])
    for name, array in (("weights", np.array([[0.0, 1.0], [1.0, 0.0]])), ("empty_npy", np.zeros((0, 0))),
                        ("complex_npy", np.array([[0, 1j], [1j, 0]])), ("vector", np.ones(2))):
        made[name] = root / f"{name}.npy"
        np.save(made[name], array)
    made["npz"] = root / "w.npz"
    np.savez(made["npz"], W1=np.ones((2, 2)), W2=np.ones((1, 2)))
    for name, content in (("run_json_list", "[1, 2]"), ("run_json_without_parameters", '{"command": []}')):
        made[name] = root / name
        made[name].mkdir()
        (made[name] / "run.json").write_text(content)
    made["run"] = made["run_json_without_parameters"]
    made["quartic_name"] = "quartic"
    made["trajectory"] = made["empty_dir"]
    return {name: str(path) for name, path in made.items()}


def run_cli(argv: list[str]) -> tuple[int, str, list[str]]:
    """``main(argv)`` in a fresh empty working directory: exit status, stderr, what the directory holds after."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    status = main(argv)
                except SystemExit as exc:  # argparse's --help/--version only
                    status = exc.code
        finally:
            os.chdir(previous)
        left = sorted(os.listdir(cwd))
    return status, err.getvalue(), left


def argv_with(command: str, option: str, value: str, files: dict) -> list[str]:
    """The base command line of ``command`` with ``option`` set to ``value`` (a bad file's name becomes its path);
    ``"@"`` is the base's first {placeholder}, an option is given as ``--option=value`` (so "-1" stays a value)."""
    base, _ = FUZZ[command]
    value = files.get(value, value)
    if option == "@":
        index = next(i for i, word in enumerate(base) if word.startswith("{"))
        base = [*base[:index], value, *base[index + 1:]]
    elif option in base:
        index = base.index(option)
        base = [*base[:index], *base[index + 2:]]
    argv = [files[word[1:-1]] if word.startswith("{") else word for word in base]
    return argv if option == "@" else [*argv, f"{option}={value}"]


def test_every_command_has_a_fuzz_spec():
    assert sorted(FUZZ) == sorted(COMMANDS)


CASES = [(command, option) for command, (_, options) in FUZZ.items() for option in options]
TRIED: dict[str, int] = {}


@pytest.mark.parametrize("command, option", CASES, ids=[f"{c}:{o}" for c, o in CASES])
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bad_value_exits_2_with_one_line(command, option, data, files):
    value = data.draw(st.sampled_from(FUZZ[command][1][option]), label="value")
    argv = argv_with(command, option, value, files)
    status, err, left = run_cli(argv)
    TRIED[command] = TRIED.get(command, 0) + 1
    lines = err.strip().splitlines()
    assert status == 2, (argv, status, err)
    assert len(lines) == 1 and lines[0].startswith("statmech-nn: error: "), (argv, err)
    assert "Traceback" not in err
    assert left == [], (argv, left)


@pytest.mark.slow
def test_closed_stdout_exits_quietly(tmp_path):
    """``statmech-nn ... | head -1``: the reader is gone; exit 141 (128 + SIGPIPE) without a traceback."""
    import subprocess
    import sys
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    process = subprocess.Popen([sys.executable, "-m", "statmech_nn", "quartic", "boundaries", *QUARTIC],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait() == 141, err
    assert "Traceback" not in err and err == ""
