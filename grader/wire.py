"""The data-only channel between the grader's processes (COURSE.md section 7).

One message is a frame:  u32 length of the rest | u32 length of the header | header | buffers.
The header is JSON; the buffers are the raw bytes of the arrays (and bytes objects) it refers to.
Nothing is ever pickled: a value is rebuilt from JSON and bytes, so reading a message can create
numbers, strings, numpy arrays of plain dtypes, lists, tuples, dicts, sets and *handles*
(numbered references to objects that stay in the other process), and nothing else.

Encoded values (JSON):
  null, true, false, numbers, strings      themselves (NaN and infinities as Python's json writes them)
  {"L": [...]}  {"T": [...]}  {"Z": [...]}  list, tuple, set
  {"D": [[k, v], ...]}                    dict
  {"A": [dtype, shape, i]}                ndarray; buffer i holds its C-order bytes
  {"N": [dtype, i]}                       numpy scalar
  {"B": i}                                bytes
  {"C": [re, im]}                         complex
  {"Y": dtype}                            a numpy dtype or scalar type (np.float64 in astype, say)
  {"P": str}                              a file system path (pathlib.Path)
  {"S": [start, stop, step]}  {"E": 0}    slice, Ellipsis (array indices)
  {"H": n}                                handle n of an object in the worker
  {"O": [class, state]}                   a course_lib object sent BY VALUE to the worker (only the
                                          worker decodes these: see `decode(..., objects=True)`)
This module is standard library plus numpy, so the sandboxed worker can import it on its own.
"""
from __future__ import annotations

import json
import os
import pathlib
import socket
import struct

import numpy as np

# limits on what a receiver accepts; a frame over them is refused before it is read
MAX_FRAME = 512 * 1024 * 1024
MAX_DEPTH = 40
MAX_ITEMS = 2_000_000
MAX_STR = 4 * 1024 * 1024
INT_LIMIT = 2 ** 63

DTYPES = frozenset(["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"])
_HEAD = struct.Struct("<II")


class WireError(ValueError):
    """A message that breaks the protocol (too large, malformed, a type it does not carry)."""


class Handle:
    """A reference to object number `id` in the worker (what the receiving side decodes {"H": n} to,
    unless it passes its own `make_handle`)."""

    __slots__ = ("id",)

    def __init__(self, id):
        self.id = id


# -- values -----------------------------------------------------------------------------
def _dtype_name(dt) -> str:
    name = np.dtype(dt).name
    if name not in DTYPES:
        raise WireError(f"arrays of dtype {name} are not sent (plain numeric dtypes only)")
    return name


def encode(value, buffers: list, to_handle=None, by_value=None, depth: int = 0):
    """JSON-able form of `value`, appending array bytes to `buffers`.
    `to_handle(obj)` -> int (or None) turns other objects into handles; `by_value(obj)` -> (class
    name, state) or None sends an object as a copy. Anything else raises WireError."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and len(value) > MAX_STR:
            raise WireError("string too long")
        return value if value is None or isinstance(value, bool) else str(value)
    if isinstance(value, int) and not isinstance(value, bool) and type(value).__module__ == "builtins":
        if not -INT_LIMIT <= value < INT_LIMIT:
            raise WireError("integer out of the 64-bit range")
        return int(value)
    if isinstance(value, float) and type(value).__module__ == "builtins":
        return float(value)
    if isinstance(value, np.ndarray) and not isinstance(value, np.ma.MaskedArray):
        buffers.append(np.ascontiguousarray(value).tobytes())
        return {"A": [_dtype_name(value.dtype), list(value.shape), len(buffers) - 1]}
    if isinstance(value, np.generic):
        buffers.append(np.asarray(value).tobytes())
        return {"N": [_dtype_name(value.dtype), len(buffers) - 1]}
    if isinstance(value, complex):
        return {"C": [value.real, value.imag]}
    if isinstance(value, (bytes, bytearray)):
        buffers.append(bytes(value))
        return {"B": len(buffers) - 1}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"Y": _dtype_name(value)}
    if isinstance(value, type) and value in (float, int, bool, complex):
        return {"Y": _dtype_name(value)}
    if isinstance(value, pathlib.PurePath):
        return {"P": str(value)}
    if isinstance(value, slice):
        return {"S": [encode(v, buffers, to_handle, by_value, depth + 1)
                      for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"E": 0}
    kind = {list: "L", tuple: "T", set: "Z", frozenset: "Z"}.get(type(value))
    if kind:
        if len(value) > MAX_ITEMS:
            raise WireError("too many items")
        return {kind: [encode(v, buffers, to_handle, by_value, depth + 1) for v in value]}
    if type(value) is dict:
        if len(value) > MAX_ITEMS:
            raise WireError("too many items")
        return {"D": [[encode(k, buffers, to_handle, by_value, depth + 1),
                       encode(v, buffers, to_handle, by_value, depth + 1)] for k, v in value.items()]}
    if to_handle is not None:
        n = to_handle(value)
        if n is not None:
            return {"H": n}
    if by_value is not None:
        copy = by_value(value)
        if copy is not None:
            cls, state = copy
            return {"O": [cls, encode(state, buffers, to_handle, by_value, depth + 1)]}
    raise WireError(f"cannot send a {type(value).__name__} object")


def decode(data, buffers: list, make_handle=Handle, make_object=None, counter=None, depth: int = 0):
    """The value that `encode` wrote. {"O": ...} is accepted only with `make_object`; strings,
    arrays and containers are checked against the limits; anything unknown raises WireError."""
    if counter is None:
        counter = [0]
    counter[0] += 1
    if counter[0] > MAX_ITEMS:
        raise WireError("too many items")
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if data is None or isinstance(data, (bool, float)):
        return data
    if isinstance(data, int):
        if not -INT_LIMIT <= data < INT_LIMIT:
            raise WireError("integer out of the 64-bit range")
        return data
    if isinstance(data, str):
        if len(data) > MAX_STR:
            raise WireError("string too long")
        return data
    if not (isinstance(data, dict) and len(data) == 1):
        raise WireError("malformed value")
    (tag, arg), = data.items()
    sub = lambda v: decode(v, buffers, make_handle, make_object, counter, depth + 1)  # noqa: E731
    if tag in ("L", "T", "Z"):
        if not isinstance(arg, list):
            raise WireError("malformed container")
        items = [sub(v) for v in arg]
        if tag == "L":
            return items
        if tag == "T":
            return tuple(items)
        try:
            return set(items)
        except TypeError as e:
            raise WireError("unhashable item in a set") from e
    if tag == "D":
        if not isinstance(arg, list):
            raise WireError("malformed dict")
        out = {}
        for pair in arg:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise WireError("malformed dict item")
            key = sub(pair[0])
            try:
                out[key] = sub(pair[1])
            except TypeError as e:
                raise WireError("unhashable dict key") from e
        return out
    if tag == "A":
        dtype, shape, i = _check_array_spec(arg, buffers)
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count * dtype.itemsize != len(buffers[i]):
            raise WireError("array bytes do not match its shape and dtype")
        return np.frombuffer(buffers[i], dtype=dtype).reshape(shape).copy()
    if tag == "N":
        if not (isinstance(arg, list) and len(arg) == 2):
            raise WireError("malformed scalar")
        dtype, _, i = _check_array_spec([arg[0], [], arg[1]], buffers)
        if dtype.itemsize != len(buffers[i]):
            raise WireError("scalar bytes do not match its dtype")
        return np.frombuffer(buffers[i], dtype=dtype)[0]
    if tag == "B":
        if not (isinstance(arg, int) and 0 <= arg < len(buffers)):
            raise WireError("malformed bytes")
        return bytes(buffers[arg])
    if tag == "C":
        if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(v, (int, float)) for v in arg)):
            raise WireError("malformed complex")
        return complex(arg[0], arg[1])
    if tag == "Y":
        if arg not in DTYPES:
            raise WireError("unknown dtype")
        return np.dtype(arg)
    if tag == "P":
        if not isinstance(arg, str) or len(arg) > 4096:
            raise WireError("malformed path")
        return pathlib.Path(arg)
    if tag == "S":
        if not (isinstance(arg, list) and len(arg) == 3):
            raise WireError("malformed slice")
        return slice(*(sub(v) for v in arg))
    if tag == "E":
        return Ellipsis
    if tag == "H":
        if not (isinstance(arg, int) and 0 <= arg < INT_LIMIT):
            raise WireError("malformed handle")
        return make_handle(arg)
    if tag == "O" and make_object is not None:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise WireError("malformed object")
        return make_object(arg[0], sub(arg[1]))
    raise WireError(f"unknown value tag {tag!r}")


def _check_array_spec(arg, buffers):
    if not (isinstance(arg, list) and len(arg) == 3):
        raise WireError("malformed array")
    name, shape, i = arg
    if name not in DTYPES:
        raise WireError("arrays of that dtype are not accepted")
    if not (isinstance(shape, list) and len(shape) <= 32
            and all(isinstance(n, int) and 0 <= n < INT_LIMIT for n in shape)):
        raise WireError("malformed array shape")
    if not (isinstance(i, int) and 0 <= i < len(buffers)):
        raise WireError("malformed array buffer")
    return np.dtype(name), tuple(shape), i


# -- frames -----------------------------------------------------------------------------
def pack(header: dict, buffers: list) -> bytes:
    head = json.dumps({**header, "_b": [len(b) for b in buffers]}, allow_nan=True,
                      separators=(",", ":")).encode()
    body = b"".join(buffers)
    total = 4 + len(head) + len(body)
    if total > MAX_FRAME:
        raise WireError(f"message of {total} bytes is over the {MAX_FRAME}-byte limit")
    return _HEAD.pack(total, len(head)) + head + body


def unpack(frame: bytes, head_len: int):
    try:
        header = json.loads(frame[:head_len])
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise WireError("malformed header") from e
    if not isinstance(header, dict):
        raise WireError("malformed header")
    sizes = header.pop("_b", [])
    if not (isinstance(sizes, list) and all(isinstance(n, int) and n >= 0 for n in sizes)):
        raise WireError("malformed buffer sizes")
    if head_len + sum(sizes) != len(frame):
        raise WireError("buffer sizes do not add up")
    buffers, at = [], head_len
    view = memoryview(frame)
    for n in sizes:
        buffers.append(view[at:at + n])
        at += n
    return header, buffers


class Channel:
    """Frames over a connected stream socket. `recv` refuses a frame larger than `limit`
    (the receiving side's cut): the peer is then treated as broken."""

    def __init__(self, sock: socket.socket, limit: int = MAX_FRAME):
        self.sock, self.limit = sock, limit

    def send(self, header: dict, buffers=()) -> None:
        self.sock.sendall(pack(header, list(buffers)))

    def recv(self, timeout: float | None = None):
        """(header, buffers); raises EOFError when the peer is gone, TimeoutError on timeout,
        WireError on a malformed or oversized frame."""
        self.sock.settimeout(timeout)
        try:
            head = self._read(8)
            total, head_len = _HEAD.unpack(head)
            if total > self.limit or total > MAX_FRAME:
                raise WireError(f"message of {total} bytes refused (limit {self.limit})")
            if head_len > total - 4:
                raise WireError("malformed frame")
            self.sock.settimeout(None if timeout is None else max(timeout, 30.0))
            frame = self._read(total - 4)
        except socket.timeout as e:
            raise TimeoutError("no message in time") from e
        return unpack(frame, head_len)

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other process closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def channel_from_fd(fd: int, limit: int = MAX_FRAME) -> Channel:
    sock = socket.socket(fileno=fd)
    os.set_inheritable(sock.fileno(), False)
    return Channel(sock, limit)
