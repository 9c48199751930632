"""What every benchmark here shares: the best time of repeated calls, and running each
library in a process of its own (two OpenMP runtimes, or another library's imported
objects, in one process slowed whichever ran second).

    from timing import best_time, has_torch, measure_in_subprocess
"""
import json
import subprocess
import sys
import time


def best_time(fn, number=1, repeats=7, clock=time.perf_counter):
    """Seconds per call of ``fn``: the minimum over ``repeats`` runs of ``number`` calls each
    (the minimum, because these machines are shared and noise only ever adds time).
    ``clock=time.process_time`` counts this process's CPU time only: steadier on a loaded
    machine, blind to time spent waiting (or in other threads' idle spinning)."""
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number)
    return best


def best_times(calls, repeats, rounds=3, pause=0.2):
    """The minimum time of each call (None stays None). Each call's repeats run back to back,
    since parallel runtimes that busy-wait after a call (OpenMP, OpenBLAS) slow down whichever
    library runs next; the rounds alternate between the calls, so that a burst of load from
    elsewhere does not land on one library only."""
    best = [None if call is None else float("inf") for call in calls]
    for _ in range(rounds):
        for i, call in enumerate(calls):
            if call is None:
                continue
            call()  # warm-up: compilation, caches, first-touch page faults
            best[i] = min(best[i], best_time(call, 1, repeats))
            time.sleep(pause)  # let spinning threads go idle
    return best


def has_torch():
    """Whether PyTorch imports here (checked in a subprocess: this one stays free of it)."""
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def measure_in_subprocess(script, *args):
    """Run ``python script *args`` and return the JSON its last line of output holds."""
    out = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])
