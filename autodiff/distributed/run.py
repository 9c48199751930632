"""Launch a data-parallel job: ``python -m autodiff.distributed.run -n 4 train.py args...``

A thin wrapper over the ``mpiexec`` of this Python environment (the MPICH wheel installs
it next to ``python``). Each process runs the script under ``autodiff.distributed.worker``,
which sets PyTorch's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` and
makes an uncaught exception on any rank print that rank's traceback and abort the whole
job (exit status 1) instead of leaving the other ranks waiting in a collective forever.

Several machines (the same environment path on each, reachable by ssh):

    python -m autodiff.distributed.run -n 8 --hosts node1:4,node2:4 train.py
    python -m autodiff.distributed.run -n 8 --hostfile hosts.txt train.py

``-m module`` runs a module instead of a script, as ``python -m`` does.
"""
import argparse
import os
import shutil
import sys


def find_mpiexec():
    """The ``mpiexec`` next to this interpreter, else the first on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec")
    if found is None:
        raise SystemExit("autodiff.distributed.run: no mpiexec found; install the distributed "
                         "extra: pip install 'autodiff[distributed]'")
    return found


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m autodiff.distributed.run",
        description="Run a training script in several processes (MPI ranks).")
    parser.add_argument("-n", "--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc",
                        type=int, default=1, help="number of processes (default 1)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--hosts", help="comma-separated hosts, each optionally host:slots")
    where.add_argument("--hostfile", help="a file with one host (host:slots) per line")
    parser.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: this "
                        "environment's)")
    parser.add_argument("-m", dest="module", action="store_true",
                        help="the target is a module name (python -m)")
    parser.add_argument("target", help="the script (or, with -m, the module) to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args(argv)
    if options.nproc < 1:
        parser.error(f"-n must be at least 1, got {options.nproc}")
    return options


def command(options):
    """The mpiexec command line for ``options`` (a list of strings)."""
    cmd = [options.mpiexec or find_mpiexec(), "-n", str(options.nproc)]
    if options.hosts:
        cmd += ["-hosts", options.hosts]
    if options.hostfile:
        cmd += ["-f", options.hostfile]
    cmd += [sys.executable, "-m", "autodiff.distributed.worker"]
    cmd += ["-m", options.target] if options.module else [options.target]
    return cmd + list(options.args)


def main(argv=None):
    cmd = command(parse(sys.argv[1:] if argv is None else argv))
    sys.stdout.flush()
    os.execv(cmd[0], cmd)     # mpiexec's exit status becomes the job's


if __name__ == "__main__":
    main()
