"""Each lecture notebook's source is a jupytext percent-format file beside it: the pair must
hold the same cells (``python notebooks/run_notebooks.py NN`` rewrites the .ipynb from the .py)."""
import pathlib

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
PAIRS = sorted({p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")} |
               {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")})


def _cells(nb):
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_there_are_notebooks():
    assert len(PAIRS) >= 10


@pytest.mark.parametrize("stem", PAIRS)
def test_notebook_and_source_hold_the_same_cells(stem):
    source, notebook = NOTEBOOKS / f"{stem}.py", NOTEBOOKS / f"{stem}.ipynb"
    assert source.exists(), f"{notebook.name} has no percent-format source {source.name}"
    assert notebook.exists(), f"{source.name} was never run: python notebooks/run_notebooks.py {stem[:2]}"
    from_source = jupytext.read(source, fmt="py:percent")
    saved = nbformat.read(notebook, as_version=4)
    assert _cells(from_source) == _cells(saved), \
        f"{notebook.name} is out of date with {source.name}: python notebooks/run_notebooks.py {stem[:2]}"
    executed = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in executed if cell.source.strip()), \
        f"{notebook.name} was saved without running every cell"
