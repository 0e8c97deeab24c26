"""square kills its kernel with os._exit when called; halve is right: 2 of 3."""
# %% square
import os


def square(x):
    os._exit(3)
