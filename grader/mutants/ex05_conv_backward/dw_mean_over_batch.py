"""dw and db averaged over the batch (divided by N) although top_diff already holds the 1/N of the mean loss."""
# %% conv_backward
def conv_backward(top_diff, x, w, stride=1, pad=0):
    """Gradients of a convolution (vectorised over the kernel offsets)."""
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    _, _, Ho, Wo = top_diff.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for p in range(k):
        for q in range(k):
            rows = slice(p, p + stride * (Ho - 1) + 1, stride)
            cols = slice(q, q + stride * (Wo - 1) + 1, stride)
            dw[:, :, p, q] = np.einsum("nfij,ncij->fc", top_diff, xp[:, :, rows, cols]) / N
            dxp[:, :, rows, cols] += np.einsum("nfij,fc->ncij", top_diff, w[:, :, p, q])
    db = top_diff.sum(axis=(0, 2, 3)) / N
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
