"""A rank that raises or is killed ends the whole job, non-zero, in bounded time; a job
resumed from the last checkpoint continues exactly as an uninterrupted run."""
import numpy as np

from mpi_jobs import launch, output


def test_a_rank_that_raises_aborts_the_job_with_its_traceback():
    result = launch("fail.py", "raise", timeout=30)     # a hang fails here, by timeout
    assert result.returncode != 0, output(result)
    assert "[rank 1] ValueError: rank 1 fails at step 3" in result.stderr, output(result)
    assert 'fail.py", line' in result.stderr and "runpy" not in result.stderr   # the user's frames
    assert "the job finished" not in result.stdout


def test_a_rank_killed_by_sigkill_ends_the_job():
    result = launch("fail.py", "kill", timeout=30)
    assert result.returncode != 0, output(result)
    assert "the job finished" not in result.stdout


def test_a_killed_job_resumes_from_its_checkpoint_with_no_lost_or_repeated_steps(tmp_path):
    def run(name, *kill):
        return launch("resume.py", tmp_path / f"{name}.ckpt", tmp_path / f"{name}.log",
                      tmp_path / f"{name}.npy", 20, 5, *kill, timeout=30)

    def steps(log):
        return [int(line) for line in (tmp_path / log).read_text().split()]

    whole = run("whole")
    assert whole.returncode == 0, output(whole)
    killed = run("job", 13, 1)             # rank 1 dies after step 13; checkpoints at 5, 10
    assert killed.returncode != 0, output(killed)
    assert steps("job.log") == list(range(13))
    (tmp_path / "job.log").unlink()
    resumed = run("job")
    assert resumed.returncode == 0, output(resumed)
    assert steps("job.log") == list(range(10, 20))    # from the last checkpoint to the end
    expected, got = np.load(tmp_path / "whole.npy"), np.load(tmp_path / "job.npy")
    assert expected.size == 4 * 8 + 8 + 8 * 2 + 2
    np.testing.assert_array_equal(got, expected)      # bit for bit


def test_a_collective_called_on_one_rank_only_times_out_with_a_clear_error():
    result = launch("one_sided.py", timeout=30)
    assert result.returncode != 0, output(result)
    assert "[rank 0] RuntimeError: all_reduce: timed out after 2 s waiting for the other ranks" \
        in result.stderr, output(result)
    assert "rank 0 finished" not in result.stdout
