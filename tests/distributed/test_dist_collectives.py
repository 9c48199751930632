"""Collectives on 2 ranks (values for each op and dtype), and the process group in one process."""
import os
import subprocess
import sys

import pytest

from mpi_jobs import ROOT, launch, output

import autodiff
import autodiff.distributed as dist


def test_every_collective_op_and_dtype_on_two_ranks():
    result = launch("collectives.py", "cpu")
    assert result.returncode == 0, output(result)
    for rank in (0, 1):
        assert f"rank {rank} COLLECTIVES-OK" in result.stdout, output(result)
        for dtype in ("float64", "float32", "float16", "int64", "int32", "int16", "uint8", "bool"):
            assert f"rank {rank} cpu {dtype}: all_reduce" in result.stdout, output(result)


def test_collectives_on_cuda_tensors_on_the_simulator():
    """CUDA tensors go through host memory; the simulator runs the same code at tiny sizes."""
    pytest.importorskip("numba.cuda")
    result = launch("collectives.py", "cuda", env={"NUMBA_ENABLE_CUDASIM": "1"}, timeout=120)
    assert result.returncode == 0, output(result)
    assert "rank 1 cuda bool: all_reduce" in result.stdout, output(result)
    assert "rank 0 COLLECTIVES-OK" in result.stdout and "rank 1 COLLECTIVES-OK" in result.stdout


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_import_autodiff_does_not_import_mpi():
    result = _python("import sys, autodiff, autodiff.distributed, autodiff.nn.parallel\n"
                     "assert 'mpi4py' not in sys.modules\n"
                     "assert autodiff.distributed.is_available()\nprint('ok')")
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def test_environment_that_disagrees_with_mpi_is_an_error():
    result = _python("import autodiff.distributed as dist\ndist.init_process_group('mpi')",
                     RANK="3", WORLD_SIZE="4")
    assert result.returncode != 0
    assert "WORLD_SIZE=4 but MPI started this process as rank 0 of 1" in result.stderr, result.stderr


@pytest.fixture
def world_of_one():
    """Plain python without a launcher: a world of one process."""
    dist.init_process_group("gloo")       # PyTorch's backend names run on MPI too
    yield
    dist.destroy_process_group()


def test_world_of_one(world_of_one):
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    assert dist.get_backend() == "mpi"
    t = autodiff.tensor([1.0, -2.0, 3.5])
    for op in dist.ReduceOp:
        dist.all_reduce(t, op=op)
        assert t.tolist() == [1.0, -2.0, 3.5], op
    assert t._version == len(dist.ReduceOp)       # each in-place write counts, as in PyTorch
    outs = [autodiff.zeros(3)]
    dist.all_gather(outs, t)
    assert outs[0].tolist() == [1.0, -2.0, 3.5]
    objects = [None]
    dist.all_gather_object(objects, {"a": 1})
    assert objects == [{"a": 1}]
    with pytest.raises(RuntimeError, match="initialize the default process group twice"):
        dist.init_process_group("mpi")


def test_errors_before_init_and_for_unknown_backends():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(autodiff.ones(2))
    with pytest.raises(ValueError, match="unknown backend 'ucc'"):
        dist.init_process_group("ucc")
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        autodiff.nn.parallel.DistributedDataParallel(autodiff.nn.Linear(2, 2))


def test_launcher_command_line_for_several_machines():
    from autodiff.distributed import run
    cmd = run.command(run.parse(["-n", "8", "--hosts", "a:4,b:4", "train.py", "--lr", "0.1"]))
    assert cmd[1:5] == ["-n", "8", "-hosts", "a:4,b:4"]
    assert cmd[5:] == [sys.executable, "-m", "autodiff.distributed.worker", "train.py", "--lr", "0.1"]
    cmd = run.command(run.parse(["--nproc-per-node", "2", "--hostfile", "hosts", "-m", "pkg.train"]))
    assert cmd[1:5] == ["-n", "2", "-f", "hosts"] and cmd[-2:] == ["-m", "pkg.train"]
    assert os.path.basename(cmd[0]).startswith("mpiexec")
    with pytest.raises(SystemExit):
        run.parse(["-n", "0", "train.py"])
