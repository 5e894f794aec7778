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
# spec files (issue 20): each is refused before anything runs or is written
SCAN_SPECS = ["scan_nan_model", "scan_negative_model", "scan_unknown_task", "scan_this_task", "scan_huge_grid",
              "scan_bogus_key", "scan_bogus_axis", "scan_no_task"]
PLASTICITY_SPECS = ["plasticity_escaping_name", "plasticity_absolute_name", "plasticity_string_epochs",
                    "plasticity_nan_epochs", "plasticity_inf_epochs", "plasticity_huge_epochs"]

# command: (base argv with {placeholders}, {option: bad values}); an option "@" is the first positional argument
QUARTIC = ["--lambda-x", "0.1", "--g", "1", "--lambda-q", "1", "--alpha", "2.5", "--beta", "1"]
FUZZ = {
    "validate": (["validate", "{toml}"], {"@": ["missing", "garbage", "text_as_npy", "non_utf8", "directory", "fifo",
                                                "bad_spec_table", "bad_spec_acceptance", *PLASTICITY_SPECS,
                                                "experiment_huge_epochs", "experiment_escaping_name"],
                                          "--out": NOT_OUT}),
    "quartic": (["quartic", "pdf", *QUARTIC, "--q", "0"],
                {"--lambda-x": NOT_FINITE, "--g": [*NOT_POSITIVE, "1e308"], "--lambda-q": NOT_NONNEGATIVE,
                 "--alpha": [*NOT_POSITIVE, "1e-306"], "--beta": [*NOT_POSITIVE, "1e308"], "--mu": NOT_NONNEGATIVE,
                 "--q": NOT_FINITE, "--model": ["missing", "garbage", "non_utf8", "directory", "fifo", "bool_toml",
                                                "number_table_toml"]}),
    "derive": (["derive", "{quartic_name}"], {"@": ["", "x", "nan"]}),
    "scan": (["scan", "{scan_target}", "--grid", "alpha=1:2:2", "--lambda-x", "0.1", "--g", "1", "--lambda-q", "1",
              "--beta", "1", "--out", "o.nc", "--no-figures"],
             {"--beta": [*NOT_POSITIVE, "1e308"], "--g": NOT_POSITIVE, "--mu": NOT_NONNEGATIVE,
              "--grid": [*BAD_GRIDS, "bogus=1:2:3"], "--out": NOT_OUT, "@": [*BAD_FILES, *SCAN_SPECS],
              "--set": ["model.beta=nan", "model.beta=-1", "model.g=0", "model.lambda_x=inf", "model.bogus=1", "x",
                        "=1", "model.alpha=1"]}),
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
           {"--weights": [*BAD_FILES, "empty_npy", "complex_npy", "huge_npy", "nan_npy"],
            "--beta": [*NOT_POSITIVE, "1e308"],
            "--h": [*NOT_FINITE, "1e308"], "--seed": NOT_SEED, "--random-starts": ["-1", "x", str(10**20)]}),
    "train": (["train", "--arch", "mlp:64-8-10", "--dataset", "digits", "--steps", "10", "--out", "o"],
              {"--steps": [*NOT_COUNT, *HUGE_COUNT], "--seed": NOT_SEED, "--out": NOT_OUT, "--lr": NOT_POSITIVE,
               "--batch-size": NOT_COUNT, "--dataset": ["nonsense", ""],
               "--arch": ["mlp:64-1000000000-10", "mlp:64-x-10", "nonsense", "mlp:64-0-10"]}),
    "probe": (["probe", "{run}", "--out", "o"], {"@": BAD_RUN_DIRS, "--seed": NOT_SEED, "--out": NOT_OUT}),
    "fit-powerlaw": (["fit-powerlaw", "{values}"],
                     {"@": BAD_FILES, "--seed": NOT_SEED, "--gof": [*NOT_COUNT, str(10**12)],
                      "--xmin": NOT_POSITIVE}),
    "analyze": (["analyze", "{trajectory}", "--out", "o"],
                {"@": BAD_RUN_DIRS, "--lag": NOT_COUNT, "--window": NOT_COUNT, "--per-decade": NOT_COUNT,
                 "--seed": NOT_SEED, "--low-band": ["x", "1", "2:1", "0:1", "nan:1"], "--out": NOT_OUT}),
    "check": (["check"], {"--claims-dir": ["missing", "garbage", "claims_bad_widths", "claims_huge_widths"]}),
    "gates": (["gates", "--weights", "{npz}", "--input", "{vector}", "--temperature", "0.5"],
              {"--weights": [*BAD_FILES, "weights", "huge_npz", "nan_npz", "complex_npz", "string_npz"],
               "--input": [*BAD_FILES, "complex_vector", "huge_vector", "npz"],
               "--temperature": ["nan", "inf", "-1", "x", ""], "--seed": NOT_SEED}),
    "circuits": (["circuits", "{run}", "--out", "o"], {"@": BAD_RUN_DIRS, "--seed": NOT_SEED, "--out": NOT_OUT}),
    "assembly": (["assembly", "--depths", "2", "--widths", "4", "--networks", "2", "--out", "o"],
                 {"--seed": NOT_SEED, "--out": NOT_OUT, "--networks": [*NOT_COUNT, *HUGE_COUNT],
                  "--c": [*NOT_POSITIVE, "1e308", "1e200"], "--mu": NOT_FINITE,
                  "--depths": ["x", "", "0", "-1", "1.5", str(10**20)],
                  "--widths": ["x", "", "0", str(10**20)]}),
    "capacity": (["capacity", "--widths", "2", "--n-train", "8", "--steps", "2", "--out", "o.nc"],
                 {"--seed": NOT_SEED, "--out": NOT_OUT, "--steps": [*NOT_COUNT, *HUGE_COUNT], "--lr": NOT_POSITIVE,
                  "--workers": ["0", "-1", "x"], "--widths": ["x", "0", str(10**20)],
                  "--n-train": ["0", "x", str(10**20)], "--label-noise": ["nan", "-1", "2", "x"],
                  "--temperatures": ["nan", "-1", "x"]}),
    "calibrate": (["calibrate", "--list"],
                  {"--replicates": NOT_COUNT, "--size": ["x", ""], "--workers": ["0", "-1", "x"],
                   "--scenario": ["nonsense", ""], "--verdict": ["nonsense"], "--seed": NOT_SEED}),
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
    for name, array in (("huge_npy", np.full((2, 2), 1e300)), ("nan_npy", np.array([[0.0, np.nan], [np.nan, 0.0]])),
                        ("complex_vector", np.ones(2) * 1j), ("huge_vector", np.full(2, 1e300))):
        made[name] = root / f"{name}.npy"
        np.save(made[name], array)
    for name, layers in (("huge_npz", {"W1": np.full((2, 2), 1e308), "W2": np.ones((1, 2))}),
                         ("nan_npz", {"W1": np.full((2, 2), np.nan), "W2": np.ones((1, 2))}),
                         ("complex_npz", {"W1": np.ones((2, 2)) * (1 + 1j), "W2": np.ones((1, 2))}),
                         ("string_npz", {"W1": np.array([["a", "b"], ["c", "d"]]), "W2": np.ones((1, 2))})):
        made[name] = root / f"{name}.npz"
        np.savez(made[name], **layers)
    made.update(_spec_files(root))
    made["quartic_name"] = "quartic"
    made["trajectory"] = made["empty_dir"]
    return {name: str(path) for name, path in made.items()}


def _spec_files(root: Path) -> dict:
    """Scan, plasticity, experiment and claims files that are hostile in one way each (issue 20)."""
    from statmech_nn.package_data import find_spec

    made = {"scan_target": "quartic"}
    quartic = ('[scan]\ntask = "quartic"\n[grid]\n"model.g" = "0.5:2:2"\n'
               "[model]\nlambda_x = {lx}\nlambda_q = 1.0\nalpha = 2.5\nbeta = {beta}\n")
    for name, text in (
            ("scan_nan_model", quartic.format(lx="nan", beta=1.0)),
            ("scan_negative_model", quartic.format(lx=0.1, beta=-1.0)),
            ("scan_unknown_task", quartic.format(lx=0.1, beta=1.0).replace('"quartic"', '"os:system"')),
            ("scan_this_task", quartic.format(lx=0.1, beta=1.0).replace('"quartic"', '"this:s"')),
            ("scan_huge_grid", quartic.format(lx=0.1, beta=1.0).replace("0.5:2:2", "0.5:2:1000000000000")),
            ("scan_bogus_key", quartic.format(lx=0.1, beta=1.0) + "bogus = 1\n"),
            ("scan_bogus_axis", quartic.format(lx=0.1, beta=1.0).replace('"model.g"', '"model.bogus"')),
            ("scan_no_task", "[grid]\nx = '1:2:2'\n")):
        made[name] = root / f"{name}.toml"
        made[name].write_text(text)
    plasticity = Path(find_spec("plasticity_digits", "experiment")).read_text()
    for name, old, new in (
            ("plasticity_escaping_name", 'name = "mlp-hinge"', 'name = "../ESCAPED_NET"'),
            ("plasticity_absolute_name", 'name = "mlp-hinge"', f'name = "{root}/ABSOLUTE_NET"'),
            ("plasticity_string_epochs", "epochs = [0, 20, 200]", 'epochs = ["abc"]'),
            ("plasticity_nan_epochs", "epochs = [0, 20, 200]", "epochs = [nan]"),
            ("plasticity_inf_epochs", "epochs = [0, 20, 200]", "epochs = [inf]"),
            ("plasticity_huge_epochs", "epochs = [0, 20, 200]", "epochs = [0, 1e12]")):
        assert old in plasticity
        made[name] = root / f"{name}.toml"
        made[name].write_text(plasticity.replace(old, new, 1))
    smoke = Path(find_spec("smoke_digits", "experiment")).read_text()
    for name, old, new in (("experiment_huge_epochs", "\nepochs = 2\n", "\nepochs = 1e12\n"),
                           ("experiment_escaping_name", 'name = "smoke_digits"', 'name = "../../ESCAPED"')):
        assert old in smoke, name
        made[name] = root / f"{name}.toml"
        made[name].write_text(smoke.replace(old, new, 1))
    for name, widths in (("claims_bad_widths", '"abc"'), ("claims_huge_widths", "[5, 1000000000, 1000000000, 2]")):
        made[name] = root / name
        made[name].mkdir()
        (made[name] / "gates.toml").write_text(
            '[[claims]]\nid = "x"\nsource = "003"\nequation = "-"\nstatement = "-"\n'
            'check = "statmech_nn.gates.gate_claims:zero_temperature_is_relu"\ntolerance = 1e-12\n'
            f"[claims.params]\nwidths = {widths}\ntemperature = 1e-9\n")
    return made


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


# every value of the issue-20 lists, each tried (the draw above samples at most 6 per option)
HOSTILE = [("scan", "@", v) for v in SCAN_SPECS] + [("validate", "@", v) for v in PLASTICITY_SPECS] + [
    ("validate", "@", "experiment_huge_epochs"), ("validate", "@", "experiment_escaping_name"),
    *[("scan", "--set", v) for v in FUZZ["scan"][1]["--set"]], ("scan", "--grid", "bogus=1:2:3"),
    *[("gates", "--weights", v) for v in ("weights", "huge_npz", "nan_npz", "complex_npz", "string_npz")],
    *[("gates", "--input", v) for v in ("complex_vector", "huge_vector", "npz")],
    *[("hs", "--weights", v) for v in ("huge_npy", "nan_npy", "complex_npy")],
    *[("check", "--claims-dir", v) for v in ("claims_bad_widths", "claims_huge_widths")],
    *[("train", "--arch", v) for v in FUZZ["train"][1]["--arch"]], ("train", "--dataset", "nonsense"),
    ("assembly", "--c", "1e308"), ("assembly", "--c", "1e200")]


@pytest.mark.parametrize("command, option, value", HOSTILE, ids=[f"{c}:{o}:{v}" for c, o, v in HOSTILE])
def test_hostile_spec_files_and_values_exit_2_with_one_line(command, option, value, files):
    argv = argv_with(command, option, value, files)
    status, err, left = run_cli(argv)
    lines = err.strip().splitlines()
    assert status == 2, (argv, status, err)
    assert len(lines) == 1 and lines[0].startswith("statmech-nn: error: "), (argv, err)
    assert left == [], (argv, left)
    assert not any(Path(files["directory"]).parent.glob("*_NET")), "a network name led outside --out"
