"""examples/workflow.ipynb runs headless (nbclient, a fresh Python kernel) from start to end: the
workflow on the sample photos and a made price-tag photo, with its own assertions (the truncated
photo reported, personal data on the tag found and hidden, the Spark findings equal to the
single-machine ones)."""

import nbclient
import nbformat

from photos import ROOT  # noqa: E402 (the tests' folder)


def test_the_example_notebook_runs_from_start_to_end():
    path = ROOT / "examples" / "workflow.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    text = "\n".join(
        o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    assert "Spark findings equal the single-machine ones: True" in text
    assert "photos released;" in text
