"""How test cells see a student's names: proxies over the data-only channel (COURSE.md section 7).

In the trusted test runner (tester.py) every name a solution cell defines is a `Remote`: calling
it, reading or setting an attribute, indexing, iterating or len() sends one request to the student
worker and decodes the answer, which can only be data (numbers, strings, numpy arrays, containers
of those) or another `Remote`. Pass or fail is decided here, from those values.

What a test author should know (grader/README.md, "Writing tests"):
- An array read from a student object (`layer.params["weight"].data`) is a `RemoteArray`: a copy
  whose writes `a[...] = v`, `a[i] = v`, `a += v` (any in-place ufunc) and `a.fill(v)` are also made
  on the student's array. Writes through a slice view, np.copyto or a C routine change the copy only.
- course_lib objects built in a test (a Net, a Conv) are sent to student code BY VALUE (a copy).
- A student exception surfaces as a `StudentCodeError` that is also an instance of the builtin
  exception it derives from (ValueError, ...), so `except ValueError` in a test works; its message
  names the exception class and the line of the student's cell, never the student's own message.
- Warnings raised in student code are re-issued here (same builtin category), so
  warnings.catch_warnings() and np.errstate() (which is sent with every request) work as before.
- Strings from student code are `StudentText`: they compare as str, but print and format as a
  short quoted repr, so text a student wrote cannot pass for the grader's.
- isinstance() of a Remote against student or course_lib classes is False; test behaviour instead.
"""
from __future__ import annotations

import builtins
import json
import re

import numpy as np

from . import wire

NAME = re.compile(r"[^A-Za-z0-9_.]")


class StudentCodeError(Exception):
    """The student's code raised, returned something that cannot be read, or stopped."""


_ERRORS: dict = {}


def error_class(base_name: str):
    """StudentCodeError mixed with the builtin exception `base_name` (Exception subclasses only)."""
    base = getattr(builtins, base_name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(base, (StopIteration, StopAsyncIteration)):
        base = None
    key = base.__name__ if base else ""
    if key not in _ERRORS:
        _ERRORS[key] = (type(f"Student{key or 'Code'}Error", (StudentCodeError, base), {})
                        if base and base is not Exception else StudentCodeError)
    return _ERRORS[key]


class StudentText(str):
    """A string that student code produced: prints and formats as a short quoted repr."""

    def _safe(self) -> str:
        raw = str.__str__(self)
        return repr(raw[:80]) + ("..." if len(raw) > 80 else "")

    __str__ = __repr__ = _safe

    def __format__(self, spec):
        return format(self._safe(), spec)


def _texts(value):
    """Strings anywhere in a decoded value become StudentText."""
    if type(value) is str:
        return StudentText(value)
    if type(value) is list:
        return [_texts(v) for v in value]
    if type(value) is tuple:
        return tuple(_texts(v) for v in value)
    if type(value) is dict:
        return {_texts(k): _texts(v) for k, v in value.items()}
    return value


class Link:
    """The tester's connection to one student worker (one generation: a restarted worker gets a
    new Link, and Remotes of the old one fail with a clear message)."""

    def __init__(self, channel: wire.Channel | None, cells: set):
        self.channel, self.cells, self.dead = channel, cells, channel is None

    def request(self, op: str, label: str, **fields):
        if self.dead:
            raise error_class("RuntimeError")(
                f"your code is no longer running (it was stopped by a limit, crashed or was "
                f"restarted), so {label} could not be used")
        buffers: list = []
        header = {"op": op, "np": np.geterr()}
        for key, value in fields.items():
            header[key] = (wire.encode(value, buffers, to_handle=self._to_handle, by_value=by_value)
                           if key in ("args", "kwargs", "v", "key") else value)
        try:
            self.channel.send(header, buffers)
            reply, rbuf = self.channel.recv()
        except (EOFError, OSError, wire.WireError) as e:
            self.dead = True
            raise error_class("RuntimeError")(
                f"your code stopped while {label} ran (a time, memory, process or output limit, "
                f"a crash, or an exit)") from e
        self._warn(reply.get("warnings"))
        if not reply.get("ok"):
            raise self._error(reply.get("exc") or {}, label)
        try:
            value = wire.decode(reply.get("v"), rbuf, make_handle=lambda n: Remote(self, n, label))
        except wire.WireError as e:
            raise error_class("TypeError")(f"{label} returned a value the grader cannot read") from e
        return _texts(value)

    def _to_handle(self, obj):
        if isinstance(obj, Remote):
            if obj._link is not self:
                raise wire.WireError("an object of an earlier run of your code")
            return obj._id
        return None

    def _error(self, info: dict, label: str) -> Exception:
        """The exception a test sees. Only the builtin type, the line of the student's cell and
        the test's own label: the student's message and class name are text student code chose,
        which could carry what it saw of a hidden test into the feedback."""
        kind = info.get("type") if isinstance(info.get("type"), str) else "Exception"
        if kind == "StopIteration":
            return StopIteration()
        if info.get("interrupted"):
            return error_class("RuntimeError")(f"{label} was interrupted: it ran past the time limit")
        if info.get("wire"):
            return error_class("TypeError")(f"{label} returned or took a value that cannot cross between "
                                            "the grader and your code (numbers, strings, numpy arrays of "
                                            "numbers, and lists, tuples and dicts of those do)")
        where = ""
        cell, line = info.get("cell"), info.get("line")
        if cell in self.cells and isinstance(line, int) and 0 < line < 100_000:
            where = f" at line {line} of your cell '{cell}'"
        if info.get("name") == "CourseLibAnswerBlocked":
            return error_class("NotImplementedError")(
                f"your code{where} called course_lib's own implementation of what this exercise asks "
                f"you to write (by {label}); it is not available while the exercise is graded")
        cls = error_class(kind)
        shown = next((c.__name__ for c in cls.__mro__[1:] if c.__module__ == "builtins"), "Exception")
        return cls(f"{shown} raised in your code{where} by {label}")

    @staticmethod
    def _warn(items):
        import warnings
        for item in (items or [])[:20]:
            try:
                _, message, mro = item
                category = next((getattr(builtins, n) for n in mro
                                 if isinstance(getattr(builtins, n, None), type)
                                 and issubclass(getattr(builtins, n), Warning)), UserWarning)
                warnings.warn_explicit(StudentText(str(message)[:300]), category,
                                       "<your code>", 0, module="student")
            except (TypeError, ValueError):
                continue


def by_value(obj):
    """(class name, state) for a course_lib object (or numpy Generator) sent to student code as a copy."""
    if isinstance(obj, np.random.Generator):
        bit_gen = obj.bit_generator
        return "numpy.random.Generator", {"bit_generator": type(bit_gen).__name__,
                                          "state": json.loads(json.dumps(bit_gen.state, default=str))}
    module = type(obj).__module__ or ""
    if module.split(".")[0] == "course_lib" and hasattr(obj, "__dict__"):
        return f"{module}.{type(obj).__qualname__}", dict(vars(obj))
    return None


class Remote:
    """A student object seen from a test: every operation is one request to the worker."""

    __slots__ = ("_link", "_id", "_label", "__weakref__")

    def __init__(self, link: Link, id: int, label: str):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_id", id)
        object.__setattr__(self, "_label", label)

    def _req(self, op, label, **fields):
        return self._link.request(op, label, h=self._id, **fields)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # numpy and Python probe these; never ask student code
        value = self._req("getattr", f"{self._label}.{name}", name=name)
        if isinstance(value, np.ndarray):
            return RemoteArray.bind(value, self, name)
        if isinstance(value, Remote):
            object.__setattr__(value, "_label", f"{self._label}.{name}")
        return value

    def __setattr__(self, name, value):
        if isinstance(value, RemoteArray) and value._owner is self and value._attr == name:
            return  # `obj.a += v`: the in-place write already reached the student's array
        self._req("setattr", f"setting {self._label}.{name}", name=name, v=value)

    def __call__(self, *args, **kwargs):
        label = f"{self._label}(...)"
        value = self._req("call", self._label, args=list(args), kwargs=kwargs)
        if isinstance(value, Remote):
            object.__setattr__(value, "_label", label)
        return value

    def __getitem__(self, key):
        return self._req("getitem", f"{self._label}[...]", key=key)

    def __setitem__(self, key, value):
        self._req("setitem", f"{self._label}[...]", key=key, v=value)

    def __len__(self):
        n = self._req("len", f"len({self._label})")
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise error_class("TypeError")(f"len({self._label}) is not a non-negative int")
        return int(n)

    def __iter__(self):
        it = self._req("iter", f"iter({self._label})")
        if not isinstance(it, Remote):
            raise error_class("TypeError")(f"iter({self._label}) did not give an iterator")
        for _ in range(wire.MAX_ITEMS):
            try:
                yield it._req("next", f"next(iter({self._label}))")
            except StopIteration:
                return
        raise error_class("RuntimeError")(f"{self._label} yields too many items")

    def __contains__(self, item):
        return self._req("contains", f"... in {self._label}", v=item) is True

    def __bool__(self):
        return self._req("bool", f"bool({self._label})") is True

    def __repr__(self):
        return f"<your {self._label}>"

    __str__ = __repr__


class RemoteArray(np.ndarray):
    """A copy of an array attribute of a student object; in-place writes reach both."""

    _owner = None
    _attr = None

    @classmethod
    def bind(cls, array: np.ndarray, owner: Remote, attr: str) -> "RemoteArray":
        out = array.view(cls)
        out._owner, out._attr = owner, attr
        return out

    def __array_finalize__(self, obj):
        self._owner, self._attr = None, None  # views and copies are plain local arrays

    def _push(self, key=Ellipsis, value=None):
        if self._owner is not None:
            data = self.view(np.ndarray)
            self._owner._req("attr_setitem", f"writing {self._owner._label}.{self._attr}",
                             name=self._attr, key=key, v=data if value is None else value)

    def __getitem__(self, key):
        return self.view(np.ndarray)[key]

    def __setitem__(self, key, value):
        plain = self.view(np.ndarray)
        plain[key] = value
        if self._owner is not None:
            self._push(key, np.asarray(plain[key]))

    def fill(self, value):
        self.view(np.ndarray).fill(value)
        self._push()

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        args = [i.view(np.ndarray) if isinstance(i, RemoteArray) else i for i in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, RemoteArray) else o for o in out)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is None:
            return result
        for o in out:
            if isinstance(o, RemoteArray):
                o._push()
        return out[0] if len(out) == 1 else out

    def __reduce__(self):
        return self.view(np.ndarray).__reduce__()
