"""Update rules and learning-rate policies as small pure functions (CS231n's optim.py, Caffe's
SGDSolver). The solver's loop calls them once per parameter and iteration; each one can be
tried by hand on a few numbers.

An update rule takes the weights ``w``, their gradient ``dw`` and the rule's state, and returns
the new weights and the new state; it never changes its arguments.
"""

import numpy as np


# -- update rules ---------------------------------------------------------------------------
def sgd(w, dw, lr, weight_decay=0.0):
    """Plain gradient descent: w <- w - lr * (dw + weight_decay * w)."""
    return w - lr * (dw + weight_decay * w)


def sgd_momentum(w, dw, v, lr, momentum=0.9, weight_decay=0.0):
    """Caffe's SGD with momentum; returns (w', v').

        v' = momentum * v + lr * (dw + weight_decay * w)      (the velocity: a running sum of steps)
        w' = w - v'
    """
    v = momentum * v + lr * (dw + weight_decay * w)
    return w - v, v


# -- learning-rate policies (Caffe's lr_policy): the rate at iteration t ------------------------
def fixed(base_lr, t):
    return base_lr


def step(base_lr, t, gamma, stepsize):
    """Drop by ``gamma`` every ``stepsize`` iterations."""
    return base_lr * gamma ** (t // stepsize)


def inv(base_lr, t, gamma, power):
    """Caffe's LeNet solver (gamma 1e-4, power 0.75): a slow decay that never stops."""
    return base_lr * (1 + gamma * t) ** -power


def exp(base_lr, t, gamma):
    return base_lr * gamma ** t


LR_POLICIES = {"fixed": fixed, "step": step, "inv": inv, "exp": exp}


def learning_rate(policy, base_lr, t, gamma=0.1, power=0.75, stepsize=None):
    """The rate of ``policy`` (a name in LR_POLICIES) at iteration t, given Caffe's solver fields."""
    if policy not in LR_POLICIES:
        raise ValueError(f"lr_policy must be one of {tuple(LR_POLICIES)}, got {policy!r}")
    extra = {"fixed": {}, "step": {"gamma": gamma, "stepsize": stepsize},
             "inv": {"gamma": gamma, "power": power}, "exp": {"gamma": gamma}}[policy]
    return LR_POLICIES[policy](base_lr, t, **extra)


def velocity_like(w):
    """The starting state of :func:`sgd_momentum`: no motion yet."""
    return np.zeros_like(w)
