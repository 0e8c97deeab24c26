"""dx assigns (=) instead of accumulating (+=), so overlapping windows overwrite each other."""
# %% conv_backward
def conv_backward(top_diff, x, w, stride=1, pad=0):
    """Gradients of a convolution (a student's loop version)."""
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    _, _, Ho, Wo = top_diff.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = top_diff[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for p in range(k):
                            for q in range(k):
                                dxp[n, c, i * stride + p, j * stride + q] = g * w[f, c, p, q]
                                dw[f, c, p, q] += g * xp[n, c, i * stride + p, j * stride + q]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
