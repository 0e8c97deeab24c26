"""Gradient checking: compare a layer's backward with central differences (CS231n style).

The numerical gradient of the scalar  L(x) = sum(f(x) * top_diff)  is

    dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2 h)

and by the chain rule it must equal ``backward(top_diff)``. Everything runs in float64:
with float32 the rounding error of L swamps the difference for any useful h.
"""

import numpy as np

__all__ = ["numerical_gradient", "rel_error", "check_layer", "avoid_kinks"]


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise then the worst: ~1e-7 or less means agreement."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, top_diff=None, h=1e-5):
    """Central-difference gradient of sum(f(x) * top_diff) with respect to ``x`` (float64 array).

    ``x`` is perturbed in place one entry at a time and restored, so ``f`` may read it through a
    closure (e.g. a layer's weight). With ``top_diff=None``, f must return a scalar.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise TypeError(f"numerical_gradient: x must be a float64 ndarray, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")

    def loss():
        out = np.asarray(f(x), dtype=np.float64)
        return float(out) if top_diff is None else float(np.sum(out * top_diff))

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = loss()
        x[i] = old - h
        minus = loss()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def avoid_kinks(x, spacing=1e-2):
    """Same ordering as ``x``, but every two values differ by >= ``spacing`` and none is within
    spacing/2 of 0: no ties for max pooling, no input on ReLU's kink, so a finite difference of
    step h << spacing never crosses a switch point."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    rank = np.empty(flat.size)
    rank[np.argsort(flat, kind="stable")] = np.arange(flat.size)
    n_neg = int((flat < 0).sum())
    return ((rank - n_neg + 0.5) * spacing).reshape(x.shape)


def check_layer(layer, bottom, top_diff=None, labels=None, h=1e-5, seed=0, tol=None, kink_free=False):
    """Check a layer's bottom and parameter gradients against the numerical gradient.

    The layer's parameters are cast to float64 (and their diffs zeroed). For a loss layer pass
    ``labels``: the loss is a scalar and its top_diff is 1. ``kink_free=True`` first passes the
    bottom through :func:`avoid_kinks` (use it for ReLU and max pooling).

    Returns {"bottom": rel_error, "<param>": rel_error, ...}. With ``tol``, raises AssertionError
    naming every gradient whose relative error exceeds it.
    """
    layer.astype(np.float64)
    x = np.array(bottom, dtype=np.float64)
    if kink_free:
        x = avoid_kinks(x)

    def run(inp):
        return layer.forward(inp) if labels is None else layer.forward(inp, labels)

    top = run(x)
    if labels is None and top_diff is None:
        top_diff = np.random.default_rng(seed).standard_normal(np.shape(top))
    layer.zero_diff()
    run(x)
    analytic = {"bottom": layer.backward() if labels is not None else layer.backward(np.asarray(top_diff))}
    analytic.update({name: blob.diff.copy() for name, blob in layer.params.items()})

    errors = {"bottom": rel_error(analytic["bottom"], numerical_gradient(run, x, top_diff, h))}
    for name, blob in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(lambda _: run(x), blob.data, top_diff, h))
    if tol is not None:
        bad = {k: v for k, v in errors.items() if v > tol}
        if bad:
            raise AssertionError(f"{layer!r}: gradient check failed (relative error > {tol:g}): "
                                 + ", ".join(f"d{k}: {v:.2e}" for k, v in bad.items()))
    return errors
