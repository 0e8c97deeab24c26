"""The student worker: the only process that runs a student's code (COURSE.md section 7).

It starts inside the sandbox (sandbox.py) as  python -I worker.py HUB_FD TESTER_FD, with no view of
the course but course_lib (with the assignment's answers taken out: forbidden.py) and the Python
install. It runs the setup, solution and demo cells the grader sends, and answers the trusted test
runner's requests about the names those cells defined: get or set an attribute, call, index,
iterate (the operations of proxy.py), over the data-only channel of wire.py.

Nothing here is trusted: student code can replace any of it. That is fine by design, because
all it can send back is data (numbers, strings, arrays, containers, handles) and the trusted side
decides every grade from data it holds. This file only has to serve honest submissions well.
It imports the standard library, numpy and wire.py (copied next to it in the sandbox).
"""
import ast
import base64
import builtins
import io
import os
import re
import resource
import selectors
import sys
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402

OUTPUT_LIMIT = int(os.environ.get("GRADER_WORKER_OUTPUT", str(256 * 1024)))  # per cell, per stream
CELL_FILE = re.compile(r"^<cell (.+)>$")
BUILTIN_ERRORS = {name for name, obj in vars(builtins).items()
                  if isinstance(obj, type) and issubclass(obj, BaseException)}


class Capture(io.TextIOBase):
    """A stream that keeps the first OUTPUT_LIMIT characters written to it."""

    def __init__(self):
        self.parts, self.size, self.cut = [], 0, False

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        if len(text) > room:
            self.cut = True
            text = text[:max(room, 0)]
        if text:
            self.parts.append(text)
            self.size += len(text)
        return len(text)

    def getvalue(self):
        return "".join(self.parts) + ("\n[output cut]\n" if self.cut else "")


class Worker:
    def __init__(self, hub_fd, tester_fd):
        self.hub = wire.channel_from_fd(hub_fd)
        self.tester = wire.channel_from_fd(tester_fd)
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.objects, self.ids = {}, {}  # handle -> object, id(object) -> handle
        self.next_id = 1
        self.sources = {}  # cell label -> source lines, for tracebacks

    # -- handles ----------------------------------------------------------------------
    def to_handle(self, obj):
        n = self.ids.get(id(obj))
        if n is None or self.objects.get(n) is not obj:
            n, self.next_id = self.next_id, self.next_id + 1
            self.objects[n], self.ids[id(obj)] = obj, n
        return n

    def from_handle(self, n):
        if n not in self.objects:
            raise wire.WireError("unknown handle")
        return self.objects[n]

    @staticmethod
    def make_object(cls_name, state):
        """A course_lib object the tester sent by value (or a numpy Generator)."""
        import importlib
        import numpy as np
        if cls_name == "numpy.random.Generator":
            bit_gen = getattr(np.random, state["bit_generator"])()
            bit_gen.state = state["state"]
            return np.random.Generator(bit_gen)
        module, _, qual = cls_name.rpartition(".")
        if not module.startswith("course_lib"):
            raise wire.WireError("only course_lib objects are sent by value")
        cls = getattr(importlib.import_module(module), qual)
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        return obj

    def encode(self, value, buffers):
        return wire.encode(value, buffers, to_handle=self.to_handle)

    def decode(self, data, buffers):
        return wire.decode(data, buffers, make_handle=self.from_handle, make_object=self.make_object)

    # -- the loop ---------------------------------------------------------------------
    def serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self.hub.sock, selectors.EVENT_READ, self.hub)
        sel.register(self.tester.sock, selectors.EVENT_READ, self.tester)
        while True:
            try:
                for key, _ in sel.select():
                    chan = key.data
                    try:
                        header, buffers = chan.recv()
                    except EOFError:
                        if chan is self.hub:
                            return
                        sel.unregister(chan.sock)
                        continue
                    reply, out = self.dispatch(header, buffers)
                    chan.send(reply, out)
                    if header.get("op") == "bye":
                        return
            except KeyboardInterrupt:  # an interrupt that came between two requests
                continue

    def dispatch(self, header, buffers):
        op = header.get("op")
        out = []
        try:
            if op == "run":
                return self.run_cell(header["code"], header["label"], header.get("quiet", False)), out
            if op == "names":
                values = {name: self.ns[name] for name in header["names"] if name in self.ns}
                return {"ok": True, "v": self.encode(values, out)}, out
            if op in ("ping", "bye"):
                return {"ok": True}, out
            return self.proxy_op(op, header, buffers)
        except KeyboardInterrupt:
            return {"ok": False, "exc": {"type": "KeyboardInterrupt", "name": "KeyboardInterrupt",
                                         "interrupted": True}}, []

    def proxy_op(self, op, header, buffers):
        """One operation of the trusted tester on a student object, under the tester's numpy
        error state; warnings are recorded and sent back for the tester to re-issue."""
        import numpy as np
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                errstate = header.get("np") or {}
                with np.errstate(**{k: v for k, v in errstate.items()
                                    if k in ("divide", "over", "under", "invalid")}):
                    value = self._do(op, header, buffers)
                reply = {"ok": True, "v": self.encode(value, out)}
            except StopIteration:
                out = []
                reply = {"ok": False, "exc": {"type": "StopIteration", "name": "StopIteration"}}
            except wire.WireError as e:
                out = []
                reply = {"ok": False, "exc": {"type": "TypeError", "name": "WireError", "wire": str(e)[:200]}}
            except BaseException as e:  # noqa: BLE001 - student code may raise anything
                out = []
                reply = {"ok": False, "exc": self.describe(e)}
        reply["warnings"] = [[c.category.__name__, str(c.message)[:300],
                              [b.__name__ for b in c.category.__mro__]] for c in caught[:20]]
        return reply, out

    def _do(self, op, h, buffers):
        dec = lambda key: self.decode(h.get(key), buffers)  # noqa: E731
        obj = self.from_handle(h["h"]) if "h" in h else None
        if op == "getattr":
            return getattr(obj, h["name"])
        if op == "setattr":
            setattr(obj, h["name"], dec("v"))
            return None
        if op == "call":
            return obj(*dec("args"), **dec("kwargs"))
        if op == "callattr":
            return getattr(obj, h["name"])(*dec("args"), **dec("kwargs"))
        if op == "getitem":
            return obj[dec("key")]
        if op == "setitem":
            obj[dec("key")] = dec("v")
            return None
        if op == "attr_setitem":  # obj.name[key] = v, in place (a RemoteArray write)
            getattr(obj, h["name"])[dec("key")] = dec("v")
            return None
        if op == "len":
            return len(obj)
        if op == "iter":
            return iter(obj)
        if op == "next":
            return next(obj)
        if op == "contains":
            return dec("v") in obj
        if op == "bool":
            return bool(obj)
        if op == "release":
            for n in h.get("ids", []):
                o = self.objects.pop(n, None)
                if o is not None:
                    self.ids.pop(id(o), None)
            return None
        raise wire.WireError(f"unknown operation {op!r}")

    def describe(self, exc):
        """The exception's builtin base type, its class name, and the line of the student's cell
        where it was raised (innermost cell frame). No message: that text is the student's."""
        base = next((c.__name__ for c in type(exc).__mro__ if c.__name__ in BUILTIN_ERRORS
                     and c.__module__ == "builtins"), "Exception")
        where = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            m = CELL_FILE.match(frame.f_code.co_filename)
            if m:
                where = [m.group(1), lineno]
        info = {"type": base, "name": type(exc).__qualname__[:80]}
        if where:
            info["cell"], info["line"] = where
        return info

    # -- cells ------------------------------------------------------------------------
    def run_cell(self, code, label, quiet):
        """Execute a cell as Jupyter would (the last expression's value is shown; open figures
        are shown as PNG); its outputs, or with quiet=True only whether it raised."""
        stdout, stderr = Capture(), Capture()
        outputs, error = [], None
        self.sources[label] = code.splitlines()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            tree = ast.parse(code, filename=f"<cell {label}>")
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, f"<cell {label}>", "exec"), self.ns)
            if last is not None:
                value = eval(compile(last, f"<cell {label}>", "eval"), self.ns)
                if value is not None:
                    outputs.append({"result": {"text/plain": _repr(value)}})
        except BaseException as e:  # noqa: BLE001
            error = self.error_output(e)
        finally:
            sys.stdout, sys.stderr = old
        figures = [] if quiet else self.figures()
        if quiet:
            return {"ok": error is None, "outputs": []}
        streams = [{"stream": "stdout", "text": stdout.getvalue()}] if stdout.getvalue() else []
        if stderr.getvalue():
            streams.append({"stream": "stderr", "text": stderr.getvalue()})
        outputs = streams + figures + outputs
        if error:
            outputs.append({"error": error})
        return {"ok": error is None, "outputs": outputs}

    def error_output(self, exc):
        lines = []
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            m = CELL_FILE.match(frame.f_code.co_filename)
            if m:
                src = self.sources.get(m.group(1), [])
                text = src[lineno - 1].strip() if 0 < lineno <= len(src) else ""
                lines.append(f"cell {m.group(1)}, line {lineno}: {text}")
        if isinstance(exc, SyntaxError) and exc.lineno:
            lines.append(f"line {exc.lineno}: {(exc.text or '').strip()}")
        ename = type(exc).__name__
        try:
            evalue = str(exc)[:2000]
        except Exception:  # noqa: BLE001
            evalue = ""
        return {"ename": ename, "evalue": evalue, "traceback": lines + [f"{ename}: {evalue}"]}

    @staticmethod
    def figures():
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return []
        out = []
        for num in plt.get_fignums()[:10]:
            buf = io.BytesIO()
            try:
                plt.figure(num).savefig(buf, format="png", dpi=72, bbox_inches="tight")
                out.append({"display": {"image/png": base64.b64encode(buf.getvalue()).decode()}})
            except Exception:  # noqa: BLE001
                pass
        plt.close("all")
        return out


def _repr(value):
    try:
        return repr(value)[:OUTPUT_LIMIT]
    except Exception:  # noqa: BLE001
        return f"<{type(value).__name__} object>"


def main(argv):
    hub_fd, tester_fd = int(argv[1]), int(argv[2])
    # the limits the grader asked for (sandbox.py); student code cannot raise them again
    for name, value in (("RLIMIT_NPROC", "GRADER_NPROC"), ("RLIMIT_FSIZE", "GRADER_FSIZE")):
        if os.environ.get(value):
            n = int(os.environ[value])
            resource.setrlimit(getattr(resource, name), (n, n))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # what student code prints outside a cell's capture goes nowhere: the grader parses none of it
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.environ.setdefault("MPLBACKEND", "Agg")
    Worker(hub_fd, tester_fd).serve()


if __name__ == "__main__":
    main(sys.argv)
