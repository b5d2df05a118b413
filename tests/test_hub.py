"""TF-Hub interoperability: the exported SavedModel as hub.load / hub.KerasLayer take it, and loading
modules made by TF-Hub's own exporter convention, word2vec and GloVe files."""

from __future__ import annotations

import os
import random
import string

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # current TF-Hub needs tf-keras

import tensorflow as tf
import tensorflow_hub as hub
import tf_keras as keras

import cordswivel
from cordswivel.config import ClassifierConfig
from cordswivel.embedding.hub import HubTextEmbedding, export_hub_module
from cordswivel.tutorial.scicite import train_classifier

from helpers import WORDS, easy_task, word_model


@pytest.fixture(scope="module")
def model():
    return word_model()


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    return export_hub_module(model, tmp_path_factory.mktemp("hub") / "module")


def generated_strings(n=300, seed=0) -> list[str]:
    rng = random.Random(seed)
    pieces = list(WORDS) + ["unknown", "ÜBER", "日本語", "a\u00a0b", "--", "'", '"quoted"', "(x)", "..."]
    spaces = [" ", "  ", "\t", "\n", "\u2003", " \r\n "]
    out = ["", " ", "\t\n"]
    while len(out) < n:
        words = [
            rng.choice(string.punctuation) * rng.randint(0, 1)
            + rng.choice(pieces)
            + rng.choice(string.punctuation) * rng.randint(0, 2)
            for _ in range(rng.randint(1, 7))
        ]
        out.append(
            rng.choice(["", " ", "\t"]) + "".join(w + rng.choice(spaces) for w in words).rstrip(rng.choice([" ", ""]))
        )
    return out


def test_hub_load_output_equals_embed(model, exported):
    texts = generated_strings()
    module = hub.load(str(exported))
    out = module(tf.constant(texts)).numpy()
    assert out.dtype == np.float32 and out.shape == (len(texts), 6)
    assert np.abs(out - model.embed(texts)).max() <= 1e-5
    plain = tf.saved_model.load(str(exported))
    np.testing.assert_allclose(plain(tf.constant(texts[:20])).numpy(), out[:20], atol=1e-6)
    assert [v.shape for v in plain.trainable_variables] == [(len(WORDS) + 1, 6)]
    assert list(plain.regularization_losses) == []
    serving = plain.signatures["default"](tf.constant(["fever cough"]))
    assert next(iter(serving.values())).shape == (1, 6)
    assert (exported / "assets" / "vocab.txt").read_text().split("\n")[:3] == list(WORDS[:3])


@pytest.mark.parametrize("trainable", [False, True])
def test_keras_layer_in_a_sequential_model(exported, trainable):
    layer = hub.KerasLayer(str(exported), input_shape=[], dtype=tf.string, trainable=trainable)
    net = keras.Sequential([layer, keras.layers.Dense(3)])
    net.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    before = [w.numpy().copy() for w in layer.weights]
    history = net.fit(
        tf.constant(["fever cough", "Italy", "virus SARS-CoV-2", "the"]), np.array([0, 1, 2, 0]), epochs=3, verbose=0
    )
    assert len(history.history["loss"]) == 3
    changed = not np.allclose(before[0], layer.weights[0].numpy())
    assert changed == trainable


def tfhub_exporter_module(path, words, vectors):
    """A module in the layout of tensorflow/hub's text_embeddings_v2 exporter: vocabulary asset, float64
    matrix with one zero OOV row, '\\pP' stripped everywhere, split on single spaces, sqrtn."""
    vocab_file = path.parent / "exporter_vocab.txt"
    vocab_file.write_text("".join(w + "\n" for w in words), encoding="utf-8")
    table = np.vstack([vectors, np.zeros((1, vectors.shape[1]))]).astype(np.float64)

    class TextEmbeddingModel(tf.train.Checkpoint):
        def __init__(self):
            super().__init__()
            self._vocabulary_file = tf.saved_model.Asset(str(vocab_file))
            self._table = tf.lookup.StaticVocabularyTable(
                tf.lookup.TextFileInitializer(
                    self._vocabulary_file,
                    tf.string,
                    tf.lookup.TextFileIndex.WHOLE_LINE,
                    tf.int64,
                    tf.lookup.TextFileIndex.LINE_NUMBER,
                ),
                num_oov_buckets=1,
            )
            self.embeddings = tf.Variable(table)
            self.variables = [self.embeddings]
            self.trainable_variables = self.variables
            self.regularization_losses = []

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, sentences):
            normalized = tf.strings.regex_replace(sentences, r"\pP", "")
            tokens = tf.strings.split(normalized, " ").to_sparse()
            ids = tf.SparseTensor(tokens.indices, self._table.lookup(tokens.values), tokens.dense_shape)
            return tf.cast(
                tf.nn.safe_embedding_lookup_sparse(self.embeddings, ids, sparse_weights=None, combiner="sqrtn"),
                tf.float32,
            )

    tf.saved_model.save(TextEmbeddingModel(), str(path))
    return table


def test_loading_a_tfhub_exporter_module(tmp_path):
    rng = np.random.default_rng(2)
    words = ["coronavirus", "SARS", "MERS", "Italy", "Spain", "fever", "cough", "covid19"]
    vectors = rng.normal(size=(len(words), 5))
    vectors[1] = vectors[2] + 0.01  # SARS next to MERS
    table = tfhub_exporter_module(tmp_path / "official", words, vectors)
    loaded = cordswivel.load(tmp_path / "official")
    assert isinstance(loaded, HubTextEmbedding)
    assert loaded.vocab == tuple(words) and loaded.num_oov_buckets == 1
    np.testing.assert_allclose(loaded.vectors, vectors, rtol=1e-6)
    assert loaded.most_similar("SARS", 1)[0][0] == "MERS"
    # embed runs the module itself: its own tokenization ('covid-19' -> 'covid19', 'SARS,' -> 'SARS')
    expected = (table[7] + table[1]) / np.sqrt(2)
    np.testing.assert_allclose(loaded.embed(["covid-19 SARS,"])[0], expected, rtol=1e-5)


def test_classifier_on_a_tfhub_module(tmp_path):
    emb, data = easy_task()
    tfhub_exporter_module(tmp_path / "m", list(emb.vocab), emb.vectors.astype(np.float64))
    result = train_classifier(
        cordswivel.load(tmp_path / "m"), data, ClassifierConfig(epochs=15, batch_size=16, learning_rate=0.05)
    )
    assert result.test.accuracy >= 0.95
