"""halve never returns (an interruptible infinite loop); square is right: 1 of 3."""
# %% halve
def halve(x):
    while True:
        pass
