"""The README's Python examples run and print what they say."""
import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "pip install -e . && python -m autodiff.demo" in text
    assert 'pip install -e ".[test]" && python -m pytest -n 2' in text


def test_lecture_example_prints_its_comment():
    first = python_blocks()[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(first, {})
    assert out.getvalue().strip() == "tensor(-4.) tensor(-4.) tensor(3.)"


def test_training_example_learns_the_moons():
    namespace = {}
    exec(python_blocks()[1], namespace)
    model, X, y = namespace["model"], namespace["X"], namespace["y"]
    accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert accuracy > 0.95
