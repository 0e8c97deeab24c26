"""Download CIFAR-10 / CIFAR-100 from the official site into a cache folder, only when asked.

Everything is written atomically: the archive goes to a temporary file in the cache folder,
is checked (length, official MD5) and only then renamed into place; it is unpacked into a
temporary folder that is renamed into place once complete. A failed, truncated or corrupt
download raises a clear error, is never used, and leaves nothing behind.
"""

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ArchiveSpec", "CIFAR10", "CIFAR100", "data_home", "find_archive", "find_cifar10",
           "find_cifar100", "download_archive", "download_cifar10", "download_cifar100", "md5sum"]

CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveSpec:
    """A .tar.gz to fetch: where from, its MD5, and the folder and files it must unpack to."""
    name: str
    url: str
    md5: str
    filename: str   # the archive's name in the cache folder
    folder: str     # the top-level folder inside the archive
    members: tuple  # files that must be inside ``folder``


CIFAR10 = ArchiveSpec(
    "CIFAR-10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "c58f30108f718f92721af3b95e74349a", "cifar-10-python.tar.gz", "cifar-10-batches-py",
    tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"))
CIFAR100 = ArchiveSpec(
    "CIFAR-100", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    "eb9058c3a382ffc7106e4002c42a8d85", "cifar-100-python.tar.gz", "cifar-100-python",
    ("train", "test", "meta"))


def data_home(path=None):
    """The cache folder: ``path`` if given, else $COURSE_DATA, else ~/.cache/course_lib."""
    return Path(path or os.environ.get("COURSE_DATA") or Path.home() / ".cache" / "course_lib")


def md5sum(path):
    """MD5 hex digest of a file, read in chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def find_archive(spec, cache_dir=None):
    """The unpacked folder of ``spec`` in the cache if it is complete, else None."""
    folder = data_home(cache_dir) / spec.folder
    return folder if all((folder / m).is_file() for m in spec.members) else None


def find_cifar10(cache_dir=None):
    """Path of the cached ``cifar-10-batches-py`` folder, or None if CIFAR-10 is not there."""
    return find_archive(CIFAR10, cache_dir)


def find_cifar100(cache_dir=None):
    """Path of the cached ``cifar-100-python`` folder, or None if CIFAR-100 is not there."""
    return find_archive(CIFAR100, cache_dir)


def _urlopen(url):
    return urllib.request.urlopen(url, timeout=60)


def _content_length(response):
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Content-Length")
    return int(value) if value is not None else None


def _copy(response, out, total, desc, progress):
    """Stream response -> out; returns (md5 hex digest, bytes written)."""
    from tqdm.auto import tqdm

    h, n = hashlib.md5(), 0
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress) as bar:
        for chunk in iter(lambda: response.read(CHUNK), b""):
            out.write(chunk)
            h.update(chunk)
            n += len(chunk)
            bar.update(len(chunk))
    return h.hexdigest(), n


def _fetch_verified(spec, dest, fetch, progress):
    """Download spec.url to ``dest`` via a temporary file; rename only after length and MD5 check."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = fetch(spec.url)
            except OSError as err:
                raise ConnectionError(f"could not download {spec.name} from {spec.url} ({err}); without "
                                      f"network, fetch it elsewhere and put it at {dest}") from err
            with contextlib.closing(response):
                total = _content_length(response)
                digest, n = _copy(response, out, total, spec.filename, progress)
        if total is not None and n != total:
            raise ValueError(f"{spec.url}: truncated download, got {n} of {total} bytes; nothing was kept")
        if digest != spec.md5:
            raise ValueError(f"{spec.url}: MD5 of the download is {digest}, expected {spec.md5} "
                             f"({n} bytes): corrupt or incomplete, nothing was kept")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _safe_members(tar, spec, archive):
    """The archive's members, after checking that all are plain files/folders under spec.folder."""
    members = tar.getmembers()
    for m in members:
        parts = Path(m.name).parts
        if (not parts or parts[0] != spec.folder or ".." in parts or Path(m.name).is_absolute()
                or not (m.isfile() or m.isdir())):
            raise ValueError(f"{archive}: unexpected member {m.name!r} (expected files under {spec.folder}/)")
    return members


def _replace_dir(new, target):
    """Move folder ``new`` to ``target``, replacing an old one only once the new one is in place."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _extract(spec, archive, root):
    """Unpack ``archive`` into a temporary folder, check its members, rename into root/spec.folder."""
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{spec.folder}.", suffix=".part"))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = _safe_members(tar, spec, archive)
                # the "data" filter exists from Python 3.11.4 on; _safe_members already did the vital checks
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(tmp, members=members, **kwargs)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
            raise ValueError(f"{archive}: could not unpack: corrupt or truncated archive? ({err})") from None
        missing = [m for m in spec.members if not (tmp / spec.folder / m).is_file()]
        if missing:
            raise ValueError(f"{archive}: {spec.name} archive lacks {missing} under {spec.folder}/")
        _replace_dir(tmp / spec.folder, root / spec.folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root / spec.folder


def download_archive(spec, cache_dir=None, fetch=None, force=False, progress=True):
    """Download (if needed), verify and unpack ``spec``; returns the unpacked folder.

    cache_dir: the cache folder (see :func:`data_home`). fetch: ``fetch(url)`` -> a binary file-like
    object with ``read(n)`` (and optionally ``headers['Content-Length']``); default
    ``urllib.request.urlopen``. force: download and unpack again even if already cached.
    """
    root = data_home(cache_dir)
    if not force and find_archive(spec, root):
        return root / spec.folder
    root.mkdir(parents=True, exist_ok=True)
    archive = root / spec.filename
    if force or not archive.is_file():
        _fetch_verified(spec, archive, fetch or _urlopen, progress)
    elif (digest := md5sum(archive)) != spec.md5:
        raise ValueError(f"{archive}: MD5 is {digest}, expected {spec.md5}; delete the file "
                         f"or pass force=True to download it again")
    return _extract(spec, archive, root)


def download_cifar10(cache_dir=None, fetch=None, force=False, progress=True):
    """Download CIFAR-10 (163 MiB, MD5-checked) into the cache; returns the ``cifar-10-batches-py`` folder."""
    return download_archive(CIFAR10, cache_dir, fetch, force, progress)


def download_cifar100(cache_dir=None, fetch=None, force=False, progress=True):
    """Download CIFAR-100 (161 MiB, MD5-checked) into the cache; returns the ``cifar-100-python`` folder."""
    return download_archive(CIFAR100, cache_dir, fetch, force, progress)
