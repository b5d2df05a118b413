"""The in-graph tokenizer and Keras embedding layer against the Python tokenizer and embed()."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from cordswivel.corpus.tokenizer import tokenize
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.layers import graph_embed, make_text_embedding_layer, tf_tokenize
from cordswivel.embedding.vectors import TextEmbedding

SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
texts = st.text(
    alphabet=st.one_of(st.sampled_from(SPACES + "ab.,-'()é€Δ"), st.characters(blacklist_categories=("Cs",))),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6))
def test_graph_tokenizer_equals_python_tokenizer(batch):
    got = [[t.decode("utf-8") for t in row] for row in tf_tokenize(tf.constant(batch)).to_list()]
    assert got == [tokenize(text) for text in batch]


@pytest.fixture
def model():
    rng = np.random.default_rng(1)
    vocab = Vocabulary(("a", "b", "SARS", "covid-19", "é"), np.arange(5, 0, -1))
    return TextEmbedding(vocab, rng.normal(size=(6, 4)).astype(np.float32))


def test_layer_output_equals_embed(model):
    batch = ["a b", "", "  (SARS)  covid-19, unknown!", "é\u2003a\tb\n", "...", "b b b b"]
    np.testing.assert_allclose(graph_embed(model, batch), model.embed(batch), atol=1e-6)


def test_trainable_layer_changes_the_table_and_frozen_does_not(model):
    import tf_keras as keras

    for trainable in (False, True):
        layer = make_text_embedding_layer(model, trainable=trainable)
        net = keras.Sequential([keras.layers.InputLayer(input_shape=[], dtype=tf.string), layer, keras.layers.Dense(2)])
        net.compile(
            optimizer=keras.optimizers.Adam(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        before = layer.embeddings.numpy().copy()
        net.fit(tf.constant(["a b", "SARS zzz", "é"]), np.array([0, 1, 1]), epochs=2, verbose=0)
        changed = not np.allclose(before, layer.embeddings.numpy())
        assert changed == trainable
        assert len(layer.trainable_weights) == int(trainable)
