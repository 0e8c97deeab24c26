"""The data-only channel (grader/wire.py) and the tester's proxies (grader/proxy.py), checked
without a worker: what round-trips, what is refused, and how in-place writes travel."""
import pathlib
import pickle
import socket
import struct
import warnings

import numpy as np
import pytest

from grader import proxy, wire


def roundtrip(value, **kw):
    buffers = []
    data = wire.encode(value, buffers, **kw)
    frame = wire.pack({"v": data}, buffers)
    header, bufs = wire.unpack(frame[8:], struct.unpack("<II", frame[:8])[1])
    return wire.decode(header["v"], bufs)


@pytest.mark.parametrize("value", [
    None, True, 0, -2 ** 63, 2 ** 63 - 1, 1.5, float("inf"), "text", "", 3 + 4j, b"\x80\x04K\x01.",
    [1, [2, (3, "x")]], (1,), {"a": 1, 2: [3.0], (1, 2): None}, {1, 2}, np.float32(2.5), np.int64(7),
    slice(1, None, 2), Ellipsis, pathlib.Path("/tmp/x"), np.dtype("float32")])
def test_plain_values_round_trip(value):
    got = roundtrip(value)
    assert got == value and type(got) == type(value) or (isinstance(value, float) and got == value)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int32", "int64", "float16", "float32",
                                   "float64", "complex128"])
def test_arrays_round_trip_bit_for_bit(dtype):
    a = (np.arange(24).reshape(2, 3, 4) * 1.25).astype(dtype)[:, ::2]  # not contiguous
    b = roundtrip(a)
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b) and b.flags.writeable


def test_pickled_bytes_stay_bytes():
    payload = pickle.dumps(object())
    assert roundtrip(payload) == payload


@pytest.mark.parametrize("value", [np.array([object()], dtype=object), np.zeros(2, dtype=[("a", "f4")]),
                                   2 ** 63, object(), lambda: 1, np.ma.masked_array([1.0])])
def test_other_values_are_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value, [])


def test_nesting_and_size_limits():
    deep = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(wire.WireError, match="deeply"):
        wire.encode(deep, [])
    data = {"L": []}
    for _ in range(wire.MAX_DEPTH + 5):
        data = {"L": [data]}
    with pytest.raises(wire.WireError, match="deeply"):
        wire.decode(data, [])
    with pytest.raises(wire.WireError, match="too many"):
        wire.decode({"L": [1] * (wire.MAX_ITEMS + 1)}, [])


@pytest.mark.parametrize("data,buffers", [
    ({"A": ["object", [1], 0]}, [b"12345678"]),          # dtype not carried
    ({"A": ["float64", [3], 0]}, [b"12345678"]),         # bytes do not match the shape
    ({"A": ["float64", [-1], 0]}, [b""]),                 # negative shape
    ({"A": ["float64", [1], 5]}, [b"12345678"]),         # no such buffer
    ({"X": 1}, []),                                       # unknown tag
    ({"O": ["os.system", {"D": []}]}, []),               # objects only where the worker asks for them
    ({"H": -1}, []),
    (2 ** 70, []),
    ({"L": 1}, []),
])
def test_malformed_values_are_refused(data, buffers):
    with pytest.raises(wire.WireError):
        wire.decode(data, buffers)


def test_a_frame_over_the_receivers_limit_is_refused_unread():
    a, b = socket.socketpair()
    try:
        sender, receiver = wire.Channel(a), wire.Channel(b, limit=1000)
        sender.send({"op": "x"}, [b"y" * 5000])
        with pytest.raises(wire.WireError, match="refused"):
            receiver.recv(timeout=5)
        a.sendall(struct.pack("<II", 100, 10) + b"{not json!" + b"z" * 86)
        with pytest.raises(wire.WireError):
            wire.Channel(b).recv(timeout=5)
    finally:
        a.close()
        b.close()


def test_student_text_prints_as_a_short_quoted_repr():
    t = proxy.StudentText("passed test x (2 points)\nFAILED" + "y" * 200)
    assert t == "passed test x (2 points)\nFAILED" + "y" * 200  # compares as the string
    assert "\n" not in f"{t}" and "\n" not in str(t) and "\n" not in repr([t])
    assert f"{t}".startswith("'passed") and f"{t}".endswith("...")


class FakeLink:
    """Stands for proxy.Link: records the requests a Remote sends."""

    def __init__(self):
        self.sent = []

    def request(self, op, label, **fields):
        self.sent.append((op, fields))
        if op == "getattr":
            return np.arange(4.0)
        return None


def test_in_place_writes_to_a_remote_array_reach_the_student_object():
    link = FakeLink()
    blob = proxy.Remote(link, 7, "layer.params['weight']")
    a = blob.data
    assert isinstance(a, proxy.RemoteArray)
    a[1] = 10.0
    a += 1
    a.fill(0.5)
    np.multiply(a, 2, out=a)
    blob.data = a  # what `blob.data -= v` does last: nothing more to send
    ops = [(op, f.get("name"), f.get("key")) for op, f in link.sent]
    assert ops == [("getattr", "data", None), ("attr_setitem", "data", 1)] + [("attr_setitem", "data", Ellipsis)] * 3
    assert np.array_equal(link.sent[-1][1]["v"], np.full(4, 1.0))
    # copies, views and results are plain local arrays: writing to them sends nothing
    before = len(link.sent)
    c = a.copy()
    c[0] = 3
    v = a[1:]
    v[0] = 4
    (a + 1)[0] = 5
    assert len(link.sent) == before + 0 and type(a + 1) is np.ndarray


def test_student_exceptions_keep_their_builtin_type_and_drop_their_message():
    link = proxy.Link(None, {"sum_pool"})
    err = link._error({"type": "ValueError", "name": "My\nError: passed", "cell": "sum_pool", "line": 12},
                      "SumPool(...).forward")
    assert isinstance(err, ValueError) and isinstance(err, proxy.StudentCodeError)
    # the class name and message are the student's text: only the builtin type is shown
    assert str(err) == "ValueError raised in your code at line 12 of your cell 'sum_pool' by SumPool(...).forward"
    blocked = link._error({"type": "NotImplementedError", "name": "CourseLibAnswerBlocked", "cell": "sum_pool",
                           "line": 3}, "SumPool(...).backward")
    assert isinstance(blocked, NotImplementedError) and "course_lib's own implementation" in str(blocked)
    for kind in ("KeyboardInterrupt", "SystemExit", "GeneratorExit", "NoSuchError"):
        e = link._error({"type": kind, "name": kind}, "f")
        assert type(e) is proxy.StudentCodeError
    assert "cell" not in str(link._error({"type": "ValueError", "cell": "setup'; rm", "line": 3}, "f"))


def test_warnings_from_student_code_are_reissued_with_their_category():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proxy.Link._warn([["RuntimeWarning", "overflow encountered in exp", ["RuntimeWarning", "Warning"]],
                          ["Custom", "x", ["Custom", "UserWarning", "Warning"]]])
    assert [w.category for w in caught] == [RuntimeWarning, UserWarning]
    assert str(caught[0].message) == "'overflow encountered in exp'"
