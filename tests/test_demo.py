"""``python -m autodiff.demo``: trains, prints the accuracy, writes the three pictures."""
import os
import re
import subprocess
import sys

from autodiff import demo


def test_demo_writes_graph_loss_curve_and_decision_boundary(tmp_path, capsys):
    result = demo.main(["--epochs", "2", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    match = re.search(r"train accuracy (\d\.\d{3}) +test accuracy (\d\.\d{3})", out)
    assert match, out
    assert float(match.group(2)) == round(result["test_accuracy"], 3)
    assert result["train_accuracy"] > 0.75          # two epochs already separate the moons mostly
    assert sorted(os.listdir(tmp_path)) == ["decision_boundary.png", "graph.svg", "loss.png"]
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    for text in ("fc1.weight", "fc3.bias", "fc2 (Linear)", "linear", "relu", "loss"):
        assert f">{text}</text>" in svg, text
    for name in ("loss.png", "decision_boundary.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_demo_trains_the_moons_to_high_accuracy(tmp_path):
    result = demo.main(["--epochs", "20", "--out", str(tmp_path)])
    assert result["test_accuracy"] >= 0.93
    assert result["loss"] < 0.2


def test_demo_runs_as_a_module(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autodiff.demo", "--epochs", "1", "--samples", "200",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout
    assert (tmp_path / "out" / "graph.svg").exists()
