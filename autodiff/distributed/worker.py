"""One rank of a job started by ``autodiff.distributed.run``: run the user's script so that
an uncaught exception on this rank ends the whole job.

Without this, a rank that raises exits while the others wait for it in their next
collective, and the job hangs. Here the traceback is printed (prefixed by the rank) and
``MPI_Abort`` tells ``mpiexec`` to kill every rank; the job exits non-zero at once.
Also sets PyTorch's environment variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``LOCAL_WORLD_SIZE``) from MPI before the script starts.
"""
import os
import runpy
import sys
import traceback


def _set_environment(comm, MPI):
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    os.environ.update(RANK=str(comm.Get_rank()), WORLD_SIZE=str(comm.Get_size()),
                      LOCAL_RANK=str(local.Get_rank()), LOCAL_WORLD_SIZE=str(local.Get_size()))
    local.Free()


def _user_frames(tb):
    """The traceback from the first frame outside this module and runpy (the user's code)."""
    while tb is not None and (tb.tb_frame.f_code.co_filename == __file__
                              or "runpy" in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _abort(comm, status):
    sys.stdout.flush()
    sys.stderr.flush()
    comm.Abort(status)


def main(argv):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if not argv or argv == ["-m"]:
        raise SystemExit("usage: python -m autodiff.distributed.worker (script | -m module) args...")
    _set_environment(comm, MPI)
    as_module = argv[0] == "-m"
    target = argv[1] if as_module else argv[0]
    sys.argv = argv[1:] if as_module else argv
    if not as_module:
        sys.path[0] = os.path.dirname(os.path.abspath(target))
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
        if code is None or code == 0:
            return
        if not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        print(f"[rank {comm.Get_rank()}] exited with status {code}: aborting the job",
              file=sys.stderr)
        _abort(comm, code)
    except BaseException as error:
        rank = comm.Get_rank()
        lines = "".join(traceback.format_exception(type(error), error, _user_frames(
            error.__traceback__))).rstrip("\n").split("\n")
        print("\n".join(f"[rank {rank}] {line}" for line in lines), file=sys.stderr)
        print(f"[rank {rank}] uncaught exception: aborting the job", file=sys.stderr)
        _abort(comm, 1)


if __name__ == "__main__":
    main(sys.argv[1:])
