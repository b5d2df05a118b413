"""The tutorial notebook: committed without outputs, and run end to end on a small module (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import word_model

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "cord19_swivel_tutorial.ipynb"
LABELS = ["method", "background", "result"]


def test_the_notebook_is_committed_without_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert any("hub.KerasLayer(MODULE" in "".join(c["source"]) for c in code)


@pytest.mark.slow
def test_the_notebook_runs_end_to_end(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from cordswivel.embedding.hub import export_hub_module

    export_hub_module(word_model(), tmp_path / "module")
    scicite = tmp_path / "scicite"
    scicite.mkdir()
    words = [["virus", "fever"], ["Italy", "the"], ["cough", "covid-19"]]
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        rows = [{"string": " ".join(words[k % 3]), "label": LABELS[k % 3], "unique_id": str(k)} for k in range(30)]
        (scicite / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("CORDSWIVEL_MODULE", str(tmp_path / "module"))
    monkeypatch.setenv("CORDSWIVEL_SCICITE", str(scicite))
    monkeypatch.setenv("CORDSWIVEL_EPOCHS", "2")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = {k: cell.get("outputs", []) for k, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    source = {k: "".join(notebook.cells[k].source) for k in outputs}

    def cell(marker):
        return outputs[next(k for k, text in source.items() if marker in text)]

    assert any("image/png" in o.get("data", {}) for o in cell("plot_correlation(queries"))  # the heatmap is drawn
    assert any("image/png" in o.get("data", {}) for o in cell("display_training_curves(history"))
    printed = "".join(o.get("text", "") for o in cell("model.evaluate("))
    assert "accuracy: " in printed and "loss: " in printed
    table = "".join(o.get("data", {}).get("text/plain", "") for o in cell("prediction"))
    assert table.count("\n") >= 20  # the twenty-prediction table
