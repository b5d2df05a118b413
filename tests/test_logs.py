"""The filter of TensorFlow's native log lines: dropped whole, everything else passed through unchanged."""

from __future__ import annotations

import logging
import random

import pytest

from cordswivel.logs import configure, drop_native_logs

from helpers import run_cli, word_model

NATIVE = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796175177.410639    9367 port.cc:153] oneDNN custom operations are on.\n",
    b"E0000 00:00:1796175206.852669    9378 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n",
    b"W0000 00:00:1796175206.852669    9378 gpu/gpu_device.cc:2344] Cannot dlopen some GPU libraries.\n",
]
OURS = [
    b"INFO cordswivel.counting.cooccur: counting 2 partitions\n",
    b"\repoch 1/40:  12%|#2        | 6/49 [00:01<00:07]",
    b"\repoch 1/40: 100%|##########| 49/49 [00:06<00:00]\n",
    b"cordswivel train: error: I0000 is not a file\n",
    b"Italy is a word\n",
    b"E",
]


def filtered(stream: bytes, cuts: list[int]) -> bytes:
    out, held, start = b"", b"", 0
    for cut in [*cuts, len(stream)]:
        written, held = drop_native_logs(stream[start:cut], held)
        out, start = out + written, cut
    return out + held  # what the pump writes at the end


@pytest.mark.parametrize("seed", range(100))
def test_native_lines_are_dropped_at_any_chunk_boundary(seed):
    rng = random.Random(seed)
    pieces = [rng.choice(NATIVE + OURS[:-1]) for _ in range(12)] + [OURS[-1]]
    stream = b"".join(pieces)
    cuts = sorted(rng.sample(range(1, len(stream)), 8))
    assert filtered(stream, cuts) == b"".join(p for p in pieces if p not in NATIVE)


def test_a_progress_bar_is_written_at_once_not_held():
    written, held = drop_native_logs(b"\repoch 1/40:  12%|#2 | 6/49", b"")
    assert written == b"\repoch 1/40:  12%|#2 | 6/49" and held == b""
    written, held = drop_native_logs(b"I0000 00:00:17961", b"")  # may be a native line: wait for the rest
    assert written == b"" and held == b"I0000 00:00:17961"


def test_configure_quiets_the_libraries_unless_verbose():
    configure(0)
    assert logging.getLogger("tensorflow").level == logging.WARNING
    assert logging.getLogger("cordswivel").getEffectiveLevel() == logging.INFO
    configure(1)
    assert logging.getLogger("tensorflow").level == logging.INFO
    configure(-1)
    assert logging.getLogger("cordswivel").getEffectiveLevel() == logging.WARNING
    configure(0)


def test_tensorflow_commands_print_no_native_logs(tmp_path):
    word_model().save(tmp_path / "model")
    result = run_cli("export", tmp_path / "model", "--format", "hub", "--out", tmp_path / "hub")
    assert result.returncode == 0, result.stderr
    result = run_cli("embed", tmp_path / "hub", "virus fever")
    assert result.returncode == 0, result.stderr
    for marker in ("I0000", "E0000", "cuInit", "absl::InitializeLog", "INFO tensorflow", "INFO absl"):
        assert marker not in result.stderr
    assert result.stdout.startswith('[{"text": "virus fever"')


def test_python_api_users_see_no_tensorflow_start_up_lines_but_their_own_warnings(tmp_path):
    """As in a notebook: import cordswivel, then use TensorFlow through it and directly."""
    import subprocess
    import sys

    word_model().save(tmp_path / "m")
    code = f"""
import logging, sys
import cordswivel
from cordswivel.embedding.layers import graph_embed
model = cordswivel.load({str(tmp_path / "m")!r})
graph_embed(model, ["virus fever"])  # imports TensorFlow, builds and runs a graph
import tensorflow as tf
tf.function(lambda x: x * 2, jit_compile=True)(tf.constant(1.0))  # XLA's first compile logs too
logging.getLogger("cordswivel").warning("our warning")
print("to stderr", file=sys.stderr)
"""
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["our warning", "to stderr"], done.stderr
