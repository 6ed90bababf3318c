#!/usr/bin/env python3
"""ALBM tests: a memory hog steered by signals (runs inside a test cgroup).

usage: agent_hog.py STATUSFILE CHUNK_MIB [CHUNK_MIB...]
SIGUSR1 allocates (and touches) the next chunk, SIGUSR2 frees everything; each step
is appended to STATUSFILE when done ("ready", "allocated N", "freed"), followed by
" @" and the wall-clock time in milliseconds.  Exits by itself after
300 s so that a forgotten hog cannot live on.
"""
import signal
import sys
import time

status, chunks = sys.argv[1], [int(c) for c in sys.argv[2:]]
held = []


def note(text):
    with open(status, "a") as f:
        f.write("%s @%d\n" % (text, time.time() * 1000))


def alloc(*_):
    if len(held) < len(chunks):
        held.append(b"x" * (chunks[len(held)] << 20))  # bytes() writes every page
    note("allocated %d" % len(held))


def free(*_):
    held.clear()  # the big bytes objects are mmapped: freeing unmaps them at once
    note("freed")


signal.signal(signal.SIGUSR1, alloc)
signal.signal(signal.SIGUSR2, free)
note("ready")
end = time.monotonic() + 300
while time.monotonic() < end:
    time.sleep(0.2)
