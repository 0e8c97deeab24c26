"""halve ignores the interrupt and spins forever, so the worker is killed after the grace period; square is right: 1 of 3."""
# %% halve
def halve(x):
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
