"""Work beside the main thread: one way per kind, so that each has one set of lifetimes.

    processes  spawned processes, results in order, bounded, ended with their parent
    threads    background writes, and calls that wait on a network
    cluster    the same calls on a Dask cluster
    transfer   records between processes, pickled cheaply
    interrupts Ctrl-C and stopping signals, held while the main thread is in thread machinery
"""
