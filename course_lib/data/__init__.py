"""Data for the course: readers for the official formats, downloads, and an offline default.

>>> from course_lib.data import load_default
>>> ds = load_default()            # real images, no network: X (N, 1, 28, 28) float32 in [0, 1]
>>> print(ds.description)

- :func:`read_idx`, :func:`load_mnist`: MNIST / Fashion-MNIST IDX files (raw or .gz).
- :func:`read_cifar_batch`, :func:`load_cifar10`: CIFAR-10 / CIFAR-100 python pickles.
- :func:`download_cifar10`, :func:`download_cifar100`: fetch, MD5-check and unpack into the
  cache ($COURSE_DATA or ~/.cache/course_lib), only when called; :func:`find_cifar10` and
  :func:`find_cifar100` return the unpacked folder if it is already there, else None.
"""

from .cifar import cifar_images, load_cifar10, read_cifar_batch
from .default import (Dataset, fashion_mnist_available, load_default, load_fashion_mnist, load_mnist5k,
                      read_mnist5k, stratified_split)
from .download import (CIFAR10, CIFAR100, ArchiveSpec, data_home, download_archive, download_cifar10,
                       download_cifar100, find_cifar10, find_cifar100)
from .idx import load_mnist, read_idx

__all__ = ["read_idx", "load_mnist", "read_cifar_batch", "load_cifar10", "cifar_images",
           "Dataset", "load_default", "load_fashion_mnist", "load_mnist5k", "read_mnist5k",
           "fashion_mnist_available", "stratified_split",
           "ArchiveSpec", "CIFAR10", "CIFAR100", "data_home", "download_archive",
           "download_cifar10", "download_cifar100", "find_cifar10", "find_cifar100"]
