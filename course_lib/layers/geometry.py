"""Output sizes of a window sliding over an image: convolution and pooling (Caffe's formulas)."""


def conv_size(size, kernel, stride, pad):
    """Output length of a convolution: floor((size + 2*pad - kernel) / stride) + 1."""
    span = size + 2 * pad - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} larger than padded input {size + 2 * pad}")
    return span // stride + 1


def pooled_size(size, kernel, stride, pad, ceil_mode):
    """Output length of a pooling window sweep: floor (PyTorch's default) or ceil (Caffe's rule)."""
    span = size + 2 * pad - kernel
    if span < 0:
        raise ValueError(f"window {kernel} larger than padded input {size + 2 * pad}")
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1  # Caffe/PyTorch: the last window must start inside the input or left padding
    return out
