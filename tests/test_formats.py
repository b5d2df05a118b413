"""word2vec, GloVe and projector files: round trips, gensim's layout, and bad files named by line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.request

import numpy as np
import pytest

import cordswivel
from cordswivel.embedding.formats import PROJECTOR_TENSOR, export_projector, export_word2vec, load_text_vectors
from cordswivel.errors import ModelFormatError

from helpers import WORDS, word_model


@pytest.fixture(scope="module")
def model():
    return word_model()


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_round_trip(model, tmp_path, binary):
    path = export_word2vec(model, tmp_path / "vectors.w2v", binary=binary)
    assert path.read_bytes().startswith(f"{len(WORDS)} 6\n".encode())
    loaded = cordswivel.load(path)
    assert loaded.vocab == WORDS
    np.testing.assert_allclose(loaded.vectors, model.vectors, rtol=1e-6)
    assert not loaded.table[-1].any()  # a zero OOV row, as the module's


def test_glove_file_and_projector_export(model, tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text(
        "".join(w + " " + " ".join(str(float(x)) for x in v) + "\n" for w, v in zip(WORDS, model.vectors)),
        encoding="utf-8",
    )
    loaded = cordswivel.load(glove)
    np.testing.assert_allclose(loaded.vectors, model.vectors, rtol=1e-6)
    out = export_projector(model, tmp_path / "proj")
    assert np.loadtxt(out / "vectors.tsv", delimiter="\t").shape == (len(WORDS), 6)
    assert (out / "metadata.tsv").read_text(encoding="utf-8").splitlines()[1] == f"{WORDS[0]}\t{len(WORDS)}"
    assert 'tensor_path: "vectors.tsv"' in (out / "projector_config.pbtxt").read_text()


def test_word2vec_text_layout_is_gensims(model, tmp_path):
    path = export_word2vec(model, tmp_path / "v.txt")
    header, first = path.read_text(encoding="utf-8").splitlines()[:2]
    assert header == f"{len(WORDS)} 6"
    word, *values = first.split(" ")
    assert word == "the" and np.allclose([float(v) for v in values], model.vectors[0])


def test_bad_vector_files_are_named_with_their_line(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("a 1 2\nb 1\n")
    with pytest.raises(ModelFormatError, match=r"g\.txt:2: 1 values, expected 2"):
        load_text_vectors(path)
    path.write_text("a 1 x\n")
    with pytest.raises(ModelFormatError, match=r"g\.txt:1: not 'word v1 v2 \.\.\.'"):
        load_text_vectors(path)
    path.write_bytes(b"3 4\nab" + b"\0" * 5)
    with pytest.raises(ModelFormatError, match="truncated binary word2vec file at vector 1 of 3"):
        load_text_vectors(path)


def test_lowercase_vectors_are_queried_lowercased(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("sars 1 0\nfever 0 1\n")
    loaded = load_text_vectors(path, lowercase=True)
    np.testing.assert_allclose(loaded.embed(["SARS Fever"])[0], np.array([1, 1]) / np.sqrt(2), rtol=1e-6)


def test_projector_export_loads_in_tensorboard(model, tmp_path):
    """TensorBoard's projector plugin (the offline Embedding Projector) serves our export: its runs,
    the tensor's shape and metadata, and the tensor's bytes equal to our vectors."""
    pytest.importorskip("tensorboard", reason="the projector extra: pip install 'cordswivel[projector]'")
    out = export_projector(model, tmp_path / "proj")
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(out), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(180, process.kill)  # a TensorBoard that never says where it listens
    watchdog.start()
    try:
        url = None
        for line in process.stderr:  # TensorBoard prints its address on stderr once it listens
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if match:
                url = match.group(1) + "data/plugin/projector/"
                break
        assert url, "TensorBoard did not start"

        def get(path):
            with urllib.request.urlopen(url + path, timeout=60) as response:
                return response.read()

        assert json.loads(get("runs")) == ["."]
        (info,) = json.loads(get("info?run=."))["embeddings"]
        assert info["tensorName"] == PROJECTOR_TENSOR and info["tensorShape"] == list(model.vectors.shape)
        tensor = np.frombuffer(get(f"tensor?run=.&name={PROJECTOR_TENSOR}"), dtype="<f4").reshape(model.vectors.shape)
        np.testing.assert_allclose(tensor, model.vectors, rtol=1e-5, atol=1e-7)
        metadata = get(f"metadata?run=.&name={PROJECTOR_TENSOR}").decode().splitlines()
        assert metadata[0] == "word\tcount" and [row.split("\t")[0] for row in metadata[1:]] == list(model.vocab)
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"2 3\nalpha 0.1 0.2 0.3 0.4\nbeta 1 2 3 4\n", r"w2v\.txt:2: 4 values, expected 3"),
        (b"3 2\nalpha 0.1 0.2\nbeta 1 2\n", r"w2v\.txt: the header says 3 vectors, the file has 2"),
        (b"1 2\nalpha 0.1 0.2\nbeta 1 2\n", r"the header says 1 vectors, the file has 2"),
        (b"2 2\nalpha 0.1 0.2\nalpha 1 2\n", r"w2v\.txt:3: word 'alpha' repeats \(first at line 2\)"),
        (b"2 2\nalpha 0.1 nan\nbeta 1 2\n", r"w2v\.txt:2: 'alpha' has a NaN or infinite value"),
        (b"alpha 0.1 0.2\nbeta inf 2\n", r"w2v\.txt:2: 'beta' has a NaN or infinite value"),
        (b"2 0\nalpha\nbeta\n", r"w2v\.txt:1: the header says dimension 0"),
    ],
)
def test_inconsistent_text_vector_files_are_refused_with_their_line(tmp_path, content, message):
    (tmp_path / "w2v.txt").write_bytes(content)
    with pytest.raises(ModelFormatError, match=message):
        load_text_vectors(tmp_path / "w2v.txt")


def binary(words, vectors, count=None):
    head = f"{count if count is not None else len(words)} {vectors.shape[1]}\n".encode()
    return head + b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n" for w, v in zip(words, vectors))


def test_binary_files_are_told_from_their_bytes_and_checked(tmp_path):
    path = tmp_path / "w2v.bin"
    vectors = np.array([[0.5, -1.25, 3.0], [1.0, 2.0, 4.0]], np.float32)
    path.write_bytes(binary(["alpha", "beta"], vectors))
    np.testing.assert_array_equal(load_text_vectors(path).vectors, vectors)
    path.write_bytes(binary(["alpha", "alpha"], vectors))
    with pytest.raises(ModelFormatError, match=r"vector 2: word 'alpha' repeats \(first at vector 1\)"):
        load_text_vectors(path)
    path.write_bytes(binary(["alpha", "beta"], np.array([[0.5, np.nan, 3.0], [1, 2, 4]], np.float32)))
    with pytest.raises(ModelFormatError, match="vector 1: 'alpha' has a NaN or infinite value"):
        load_text_vectors(path)
    path.write_bytes(binary(["alpha", "beta"], vectors, count=1))
    with pytest.raises(ModelFormatError, match="more data after the 1 vectors the header announces"):
        load_text_vectors(path)


def test_a_byte_order_mark_before_the_header_is_ignored(tmp_path):
    (tmp_path / "w2v.txt").write_bytes(b"\xef\xbb\xbf2 2\nalpha 0.1 0.2\nbeta 1 2\n")
    assert load_text_vectors(tmp_path / "w2v.txt").vocab == ("alpha", "beta")
