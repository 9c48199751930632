"""Run the lecture notebooks from their sources and save them with outputs.

Each notebook's source is the jupytext percent-format file beside it (``NN_name.py``):
edit that, then run this script to write ``NN_name.ipynb`` with fresh outputs.

    python notebooks/run_notebooks.py              # every notebook
    python notebooks/run_notebooks.py 03 10        # only those whose file name starts so
    python notebooks/run_notebooks.py --no-execute # convert without running

``tests/test_notebook_sources.py`` checks that every pair is in sync, and the test suite
runs every ``.ipynb`` top to bottom (``pytest --nbmake``): each must finish in well under a minute.
"""
import argparse
import pathlib
import sys

import jupytext
import nbformat

HERE = pathlib.Path(__file__).resolve().parent


def sources():
    """The notebooks' percent-format sources, in lecture order."""
    return sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def build(source, execute=True, timeout=120):
    nb = jupytext.read(source, fmt="py:percent")
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"      # stable ids: a rebuild changes only what really changed
        cell.metadata.pop("lines_to_next_cell", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    if execute:
        from nbclient import NotebookClient
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
        _clean(nb)
    nbformat.validate(nb)
    path = source.with_suffix(".ipynb")
    nbformat.write(nb, str(path))
    return path


def _clean(nb):
    """Drop what differs from run to run or machine to machine (timings, font warnings, and
    where the kernel happened to split a cell's printed text into several stream outputs)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if (merged and out.get("output_type") == "stream" and merged[-1].get("output_type") == "stream"
                    and merged[-1]["name"] == out["name"]):
                merged[-1]["text"] += out["text"]   # Jupyter shows them as one block anyway
                continue                            # (and a warning may come in two pieces)
            merged.append(out)
        kept = []
        for out in merged:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = [line for line in out["text"].splitlines(keepends=True)
                         if not line.startswith("Fontconfig warning")]
                if not "".join(lines).strip():
                    continue
                out["text"] = "".join(lines)
            kept.append(out)
        cell.outputs = kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="prefixes of the notebooks to run (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="convert without running")
    args = parser.parse_args(argv)
    chosen = [s for s in sources() if not args.names or any(s.name.startswith(n) for n in args.names)]
    if not chosen:
        sys.exit(f"no notebook matches {args.names}; known: {', '.join(s.stem for s in sources())}")
    for source in chosen:
        path = build(source, execute=not args.no_execute)
        print(f"{path.name}: {'written' if args.no_execute else 'written with outputs'}")


if __name__ == "__main__":
    main()
