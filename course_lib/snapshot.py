"""Snapshots: a solver's arrays and state in one .npz file, written atomically.

The file holds named arrays plus one JSON document (the ``state``) for everything else, and is
read back with ``allow_pickle=False``: loading a snapshot never runs code.
"""

import json
import os
import tempfile

import numpy as np


def save(path, arrays, state):
    """Write ``arrays`` ({name: ndarray}) and ``state`` (JSON-able) to ``path``; never leaves a
    half-written file behind (a temporary file in the same folder, then one rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, state=np.array(json.dumps(state, default=_jsonable)), **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def load(path):
    """(arrays, state) from a file written by :func:`save`; ValueError if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            state = json.loads(str(z["state"]))
            arrays = {k: z[k] for k in z.files if k != "state"}
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path} is not a readable snapshot ({e})") from e
    return arrays, state


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"cannot store {type(x).__name__} in a snapshot")
