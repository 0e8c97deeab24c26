"""IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).

Layout: 2 zero bytes, a dtype code, the number of dimensions ``ndim``, then ``ndim``
big-endian uint32 sizes, then the values in row-major order, big-endian.
Files may be gzip-compressed (``.gz``, recognised by their content, not their name).
"""

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "load_mnist", "IDX_DTYPES"]

# dtype code -> big-endian numpy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

MNIST_HINT = ("get MNIST from http://yann.lecun.com/exdb/mnist/ or Fashion-MNIST from "
              "https://github.com/zalandoresearch/fashion-mnist (Debian/Ubuntu: "
              "`apt install dataset-fashion-mnist`), or use course_lib.data.load_default()")


def read_bytes(path):
    """The file's content, gunzipped if it is gzip data; clear errors for missing or broken files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file ({MNIST_HINT})")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:  # truncated or corrupt gzip stream
        raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from None


def parse_idx(buf, name="<bytes>"):
    """Parse IDX bytes into a native-endian ndarray of the header's shape."""
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise ValueError(f"{name}: not an IDX file (magic {buf[:4].hex() or 'missing'}, "
                         f"expected 0000 followed by a dtype code and ndim)")
    code, ndim = buf[2], buf[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX dtype code 0x{code:02x} "
                         f"(known: {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})")
    if ndim == 0 or len(buf) < 4 + 4 * ndim:
        raise ValueError(f"{name}: IDX header is truncated or has ndim={ndim}")
    shape = tuple(int(d) for d in np.frombuffer(buf, ">u4", ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[code])
    header = 4 + 4 * ndim
    expected, actual = int(np.prod(shape)) * dtype.itemsize, len(buf) - header
    if actual != expected:
        kind = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(f"{name}: IDX file {kind}: header says shape {shape} of {dtype.name}, "
                         f"i.e. {expected} bytes of data, but {actual} bytes follow the header")
    return np.frombuffer(buf, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path, sha256=None):
    """Read an IDX file (raw or gzip) -> ndarray with the header's shape and dtype.

    sha256: if given, the SHA-256 hex digest that the *uncompressed* content must have
    (gzip headers differ between copies of the same data, e.g. Debian's and upstream's).
    Raises FileNotFoundError if missing, ValueError if corrupt, truncated or mismatched.
    """
    buf = read_bytes(path)
    if sha256 is not None:
        digest = hashlib.sha256(buf).hexdigest()
        if digest != sha256:
            raise ValueError(f"{path}: SHA-256 of the uncompressed content is {digest}, "
                             f"expected {sha256}: the file is damaged or not the expected one")
    return parse_idx(buf, str(path))


def idx_path(folder, stem):
    """The existing file for ``stem`` (e.g. 'train-images-idx3-ubyte') in folder: .gz, raw, or '.idx3' spelling."""
    folder = Path(folder)
    candidates = [folder / f"{stem}.gz", folder / stem,
                  folder / stem.replace("-idx", ".idx"), folder / (stem.replace("-idx", ".idx") + ".gz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder}: no {stem}.gz or {stem} here ({MNIST_HINT})")


def images_and_labels(images, labels, name):
    """Check MNIST-style arrays and convert: uint8 (N, 28, 28), (N,) -> float32 (N, 1, 28, 28) in [0, 1], int64 (N,)."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{name}: expected uint8 images of shape (N, 28, 28), "
                         f"got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.shape != (images.shape[0],):
        raise ValueError(f"{name}: expected uint8 labels of shape ({images.shape[0]},), "
                         f"got {labels.dtype} {labels.shape}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{name}: labels must be 0..9, found {labels.max()}")
    X = images[:, None].astype(np.float32)
    X /= np.float32(255)  # exact: correctly rounded x / 255
    return X, labels.astype(np.int64)


def load_mnist(folder, kind="train", sha256=None):
    """MNIST or Fashion-MNIST from ``folder`` (their files have the same names).

    kind: "train" (60,000 images) or "t10k" (10,000). Files ``{kind}-images-idx3-ubyte[.gz]``
    and ``{kind}-labels-idx1-ubyte[.gz]``. sha256: optional dict file stem -> SHA-256 of the
    uncompressed content.
    Returns X float32 (N, 1, 28, 28) in [0, 1] and y int64 (N,) in 0..9.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"load_mnist: kind must be 'train' or 't10k', got {kind!r}")
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{folder}: no such folder ({MNIST_HINT})")
    sha256 = sha256 or {}
    arrays = []
    for stem in (f"{kind}-images-idx3-ubyte", f"{kind}-labels-idx1-ubyte"):
        arrays.append(read_idx(idx_path(folder, stem), sha256.get(stem)))
    return images_and_labels(*arrays, name=f"{folder} ({kind})")
