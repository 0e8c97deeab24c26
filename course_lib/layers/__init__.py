"""Layers of the course, named as on the slides and in Caffe.

>>> from course_lib.layers import Conv, MaxPool, InnerProduct, ReLU, SoftmaxWithLoss
"""

from . import fillers, geometry, naive
from .base import Blob, Layer, LossLayer
from .conv import Conv
from .core import Flatten, InnerProduct, ReLU
from .im2col import ColBuffer, col2im, im2col
from .loss import SoftmaxWithLoss
from .pooling import AvePool, MaxPool

__all__ = ["Blob", "Layer", "LossLayer", "InnerProduct", "ReLU", "MaxPool", "AvePool", "Conv", "Flatten",
           "SoftmaxWithLoss", "im2col", "col2im", "ColBuffer", "naive", "fillers", "geometry"]
