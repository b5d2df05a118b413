"""The JSON API in process and on a real uvicorn server, and the page in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cordswivel.config import ServeConfig, SubwordConfig
from cordswivel.explorer.backend import Explorer
from cordswivel.explorer.serve import create_app, plotly_js
from cordswivel.tutorial.analysis import similarity_matrix
from cordswivel.tutorial.compare import drift

from helpers import chromium, word_model

LABELS = ["method", "background", "result"]


def fixed_classifier(texts):
    """Logits that depend on the text: 'method' for texts with 'virus', else 'result'."""
    logits = np.array([[3.0, 0.0, 0.0] if "virus" in t else [0.0, 0.0, 2.0] for t in texts])
    return logits, LABELS


@pytest.fixture(scope="module")
def client():
    explorer = Explorer({"a": word_model(seed=0), "b": word_model(seed=1)}, fixed_classifier)
    with TestClient(create_app(explorer), raise_server_exceptions=False) as client:
        yield client


def test_health_models_and_page(client):
    assert client.get("/api/health").json() == {"status": "ok", "models": ["a", "b"], "classifier": True}
    models = client.get("/api/models").json()["models"]
    assert models[0] == {"name": "a", "vocab_size": 10, "dim": 6}
    page = client.get("/")
    assert (
        page.status_code == 200 and "/static/explorer.js" in page.text and "/static/vendor/plotly.min.js" in page.text
    )
    assert not re.search(r"https?://", page.text)  # nothing from the internet
    assert '<link rel="icon" href="data:,">' in page.text  # no favicon.ico request, no 404 in the log
    script = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.content == plotly_js().read_bytes()  # decompressed by the client
    assert script.headers["content-encoding"] == "gzip" and "max-age" in script.headers["cache-control"]
    assert int(script.headers["content-length"]) < 0.4 * plotly_js().stat().st_size
    plain = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == script.content
    ours = client.get("/static/explorer.js", headers={"Accept-Encoding": "gzip"})
    assert ours.status_code == 200 and ours.headers["content-encoding"] == "gzip" and "etag" in ours.headers


def test_neighbors_equal_the_python_api(client):
    data = client.get("/api/neighbors", params={"word": "virus", "k": 4, "model": "b"}).json()
    expected = word_model(seed=1).most_similar("virus", 4)
    neighbours = [{"word": w, "cosine": c} for w, c in expected]
    assert data == {"word": "virus", "model": "b", "subword": False, "neighbors": neighbours}
    assert client.get("/api/neighbors", params={"word": "virus"}).json()["model"] == "a"
    assert len(client.get("/api/neighbors", params={"word": "virus"}).json()["neighbors"]) == 9  # k 10, 10 words


def test_embed_similarity_classify_map_and_complete(client):
    texts = ["virus fever", "Italy", ""]
    data = client.post("/api/embed", json={"texts": texts, "model": "b"}).json()
    assert data["model"] == "b" and data["dim"] == 6
    np.testing.assert_allclose(data["embeddings"], word_model(seed=1).embed(texts), rtol=1e-6)
    terms = ["virus", "fever", "nothere"]
    data = client.post("/api/similarity", json={"terms": terms}).json()
    np.testing.assert_allclose(data["matrix"], similarity_matrix(word_model(), terms).matrix)
    assert data["terms"] == terms and data["oov"] == ["nothere"] and data["cosine"] is False
    cosine = client.post("/api/similarity", json={"terms": terms, "cosine": True}).json()
    np.testing.assert_allclose(cosine["matrix"], similarity_matrix(word_model(), terms, cosine=True).matrix)
    predictions = client.post("/api/classify", json={"texts": ["a virus", "Italy"]}).json()["predictions"]
    assert [p["label"] for p in predictions] == ["method", "result"]
    assert predictions[0]["probabilities"]["method"] == pytest.approx(np.exp(3) / (np.exp(3) + 2))
    data = client.get("/api/map", params={"n": 5}).json()
    assert data["words"] == list(word_model().vocab[:5]) and len(data["x"]) == len(data["y"]) == 5
    assert client.get("/api/complete", params={"prefix": "co"}).json()["words"] == ["covid-19", "cough"]


def test_analogy_rank_drift_and_map_equal_the_python_api(client):
    model = word_model(seed=1)
    body = {"positive": ["virus", "Italy"], "negative": ["fever"], "k": 3, "model": "b"}
    data = client.post("/api/analogy", json=body).json()
    expected = model.most_similar(["virus", "Italy"], 3, negative=["fever"])
    assert data == {"model": "b", "method": "3cosadd", "results": [{"term": t, "score": s} for t, s in expected]}
    data = client.post("/api/analogy", json={**body, "method": "3cosmul", "candidates": ["é", "x.y", "cough"]}).json()
    expected = model.most_similar_cosmul(["virus", "Italy"], 3, negative=["fever"], candidates=["é", "x.y", "cough"])
    assert [(r["term"], r["score"]) for r in data["results"]] == expected
    data = client.post("/api/rank", json={"positive": ["virus"], "candidates": ["cough", "the é", "zzz"]}).json()
    ranking = word_model().rank(["virus"], ["cough", "the é", "zzz"])
    assert data["ranking"] == [{"rank": k, "term": t, "score": s} for k, t, s in ranking.rows()]
    assert data["missing"] == ["zzz"] and data["model"] == "a"
    data = client.get("/api/drift", params={"min_count": 0, "k": 3, "limit": 4}).json()
    table = drift(word_model(seed=0), word_model(seed=1), k=3, min_count=0).ranked()
    assert (data["old"], data["new"], data["by"], data["k"], data["shared_words"]) == ("a", "b", "cosine", 3, 10)
    assert data["rows"] == table.head(4).rows()
    least = client.get("/api/drift", params={"min_count": 0, "k": 3, "by": "overlap", "order": "least"}).json()["rows"]
    assert [r["word"] for r in least] == list(table.ranked("overlap", most_changed=False).words)
    data = client.get("/api/map", params={"n": 10, "method": "tsne"}).json()
    assert data["method"] == "tsne" and data["explained_variance_ratio"] is None and len(data["cluster"]) == 10
    assert all(set(c) == {"id", "label", "size", "x", "y"} for c in data["clusters"])
    assert "tsne" in client.get("/api/models").json()["map_methods"]


def test_an_unseen_word_gets_neighbours_from_its_subwords():
    model = word_model().with_subwords(SubwordConfig(buckets=512))
    with TestClient(create_app(Explorer({"a": model}))) as client:
        data = client.get("/api/neighbors", params={"word": "viruses", "k": 3}).json()
        assert data["subword"] is True and data["neighbors"][0]["word"] == model.most_similar("viruses", 3)[0][0]
        data = client.post("/api/similarity", json={"terms": ["viruses", "virus", "qqqq qqqq"]}).json()
        unknown = model.subword_vector("qqqq") is None  # with 512 buckets an n-gram may share a word's bucket
        assert data["subword"] == ["viruses", *([] if unknown else ["qqqq qqqq"])]
        assert data["oov"] == (["qqqq qqqq"] if unknown else [])


def test_drift_needs_two_models():
    with TestClient(create_app(Explorer({"a": word_model()}))) as client:
        response = client.get("/api/drift")
        assert response.status_code == 404 and "two models" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("get", "/api/neighbors?word=nothere", None, 404, "word 'nothere' not in vocabulary"),
        ("get", "/api/neighbors?word=virus&model=zz", None, 404, "no model named 'zz'"),
        ("get", "/api/neighbors", None, 422, "missing query parameter 'word'"),
        ("get", "/api/neighbors?word=virus&k=ten", None, 422, "k must be an integer, got 'ten'"),
        ("get", "/api/neighbors?word=virus&k=1001", None, 422, "k must be an integer from 1 to 1000"),
        ("get", "/api/neighbors?word=virus&k=-3", None, 422, "k must be an integer from 1 to 1000"),
        ("get", "/api/map?n=50001", None, 422, "n must be an integer from 1 to 50000"),
        ("post", "/api/embed", b'{"texts": [', 400, "malformed JSON"),
        ("post", "/api/embed", b"[" * 100_000 + b"]" * 100_000, 400, "malformed JSON"),
        ("post", "/api/embed", b"\xff\xfe", 400, "malformed JSON"),
        ("post", "/api/embed", b'["x"]', 422, "must be a JSON object, got list"),
        ("post", "/api/embed", b"{}", 422, "missing field 'texts'"),
        ("post", "/api/embed", b'{"texts": "virus"}', 422, "field 'texts' must be list, got str"),
        ("post", "/api/embed", b'{"texts": ["a", 1]}', 422, "texts[1] is int, expected a string"),
        ("post", "/api/embed", b'{"texts": ["a"], "model": 3}', 422, "field 'model' must be str"),
        ("post", "/api/embed", json.dumps({"texts": ["x"] * 1001}).encode(), 422, "1001 given, at most 1000"),
        ("post", "/api/embed", json.dumps({"texts": ["x" * 1_000_001]}).encode(), 413, "over the limit"),
        ("post", "/api/similarity", b'{"terms": ["a"], "cosine": "yes"}', 422, "field 'cosine' must be bool"),
        ("post", "/api/similarity", b'{"terms": []}', 422, "terms: give at least 1"),
        ("post", "/api/similarity", b'{"terms": ["\\ud800"]}', 400, "a string holds a lone surrogate"),
        ("post", "/api/embed", b'{"texts": ["a\\udfffb"]}', 400, "a string holds a lone surrogate"),
        ("post", "/api/classify", b'{"texts": ["x"], "\\ud83d": 1}', 400, "a string holds a lone surrogate"),
        ("get", "/api/embed", None, 405, "GET is not allowed on /api/embed"),
        ("post", "/api/analogy", b'{"positive": ["virus", "nothere"]}', 404, "word 'nothere' not in vocabulary"),
        ("post", "/api/analogy", b'{"positive": ["virus"], "method": "avg"}', 422, "method must be one of"),
        ("post", "/api/analogy", b'{"negative": ["virus"], "method": "3cosmul"}', 422, "positive: give at least 1"),
        ("post", "/api/analogy", b'{"positive": ["virus"], "k": 0}', 422, "k must be an integer from 1 to 1000"),
        ("post", "/api/analogy", b'{"positive": ["virus"], "candidates": []}', 422, "candidates: give at least 1"),
        ("post", "/api/rank", b'{"positive": ["virus"]}', 422, "missing field 'candidates'"),
        ("post", "/api/rank", b'{"positive": [], "candidates": ["x"]}', 422, "positive: give at least 1"),
        ("get", "/api/drift?by=size", None, 422, "by must be one of cosine, overlap"),
        ("get", "/api/drift?old=a&new=zz", None, 404, "no model named 'zz'"),
        ("get", "/api/drift?order=up", None, 422, "order must be most or least"),
        ("get", "/api/drift?limit=0", None, 422, "limit must be an integer from 1 to 1000"),
        ("get", "/api/map?method=mds", None, 422, "method must be one of pca, tsne, umap"),
        ("get", "/api/map?method=tsne&n=20001", None, 422, "n must be an integer from 1 to 20000"),
        ("get", "/api/nothing", None, 404, "no such page: /api/nothing"),
    ],
)
def test_bad_requests_get_a_status_and_one_line(client, method, path, body, status, message):
    response = client.get(path) if method == "get" else client.post(path, content=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error and "\n" not in error


STRINGS = st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfffb", "virus", "fever"])  # lone surrogates too
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
LIST_FIELD = {
    "/api/classify": "texts",
    "/api/embed": "texts",
    "/api/similarity": "terms",
    "/api/analogy": "positive",
    "/api/rank": "candidates",
}
TERMS = st.lists(STRINGS, max_size=4) | JSON_VALUES


def bodies(path):
    """Request bodies for ``path``: its list field, mostly a list of strings, and the optional fields."""
    optional = {
        "cosine": st.booleans() | JSON_VALUES,
        "model": st.sampled_from(["a", "b"]) | JSON_VALUES,
        "positive": TERMS,
        "negative": TERMS,
        "candidates": TERMS,
        "k": st.integers(-2, 2000) | JSON_VALUES,
        "method": st.sampled_from(["3cosadd", "3cosmul"]) | JSON_VALUES,
    }
    optional.pop(LIST_FIELD[path], None)
    return st.fixed_dictionaries({LIST_FIELD[path]: TERMS}, optional=optional)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=st.sampled_from(sorted(LIST_FIELD)).flatmap(lambda path: st.tuples(st.just(path), bodies(path))))
def test_fuzzed_bodies_get_a_client_error_or_an_answer_never_a_server_error(client, request):
    path, values = request
    response = client.post(path, content=json.dumps(values).encode())  # a lone surrogate goes as \udXXX
    assert response.status_code in (200, 400, 404, 413, 422), (path, values, response.text)
    if response.status_code != 200:
        assert set(response.json()) == {"error"}


def test_classify_without_a_classifier_says_how_to_get_one():
    with TestClient(create_app(Explorer({"a": word_model()}))) as client:
        response = client.post("/api/classify", json={"texts": ["x"]})
        assert response.status_code == 404 and "--classifier" in response.json()["error"]
        assert client.get("/api/health").json()["classifier"] is False


# ---------------------------------------------------------------------- a real server
def start_server(root):
    """``cordswivel serve`` on a free port with two models and a saved (untrained) classifier:
    (its URL, the process)."""
    from cordswivel.tutorial.scicite import build_classifier, save_classifier

    word_model(seed=0).save(root / "first")
    word_model(seed=1).save(root / "second")
    save_classifier(build_classifier(word_model(seed=0)), root / "classifier")
    command = [sys.executable, "-m", "cordswivel.cli", "serve", root / "first", root / "second"]
    process = subprocess.Popen(
        [*map(str, command), "--classifier", str(root / "classifier"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # little: warnings only, TensorFlow's native lines filtered
        text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
    if not match:
        process.kill()
        pytest.fail(f"no URL in {line!r}")
    return match.group(1), process


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, process = start_server(tmp_path_factory.mktemp("serve"))
    yield url, process
    if process.poll() is None:
        process.kill()


def fetch(url, body=None):
    request = urllib.request.Request(
        url, data=None if body is None else json.dumps(body).encode(), method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_real_server_answers_every_endpoint(server):
    url, _ = server
    assert fetch(url + "api/health") == (200, {"status": "ok", "models": ["first", "second"], "classifier": True})
    status, data = fetch(url + "api/neighbors?word=fever&k=2&model=second")
    assert status == 200 and [n["word"] for n in data["neighbors"]] == [
        w for w, _ in word_model(seed=1).most_similar("fever", 2)
    ]
    status, data = fetch(url + "api/embed", {"texts": ["virus cough"]})
    np.testing.assert_allclose(data["embeddings"], word_model().embed(["virus cough"]), rtol=1e-6)
    status, data = fetch(url + "api/classify", {"texts": ["virus", "fever cough"]})
    assert status == 200 and len(data["predictions"]) == 2
    assert all(set(p["probabilities"]) == set(LABELS) and p["label"] in LABELS for p in data["predictions"])
    assert sum(data["predictions"][0]["probabilities"].values()) == pytest.approx(1.0)
    assert fetch(url + "api/neighbors?word=zzz")[0] == 404
    assert fetch(url + "api/map?n=3")[1]["words"] == list(word_model().vocab[:3])


def test_real_server_stops_cleanly_on_ctrl_c(server):
    url, process = server
    assert fetch(url + "api/health")[0] == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130  # as every command (README, "When things go wrong")
    out, err = process.communicate()
    assert "stopped" in out and "Traceback" not in err and err.strip().endswith("cordswivel serve: interrupted")


def test_real_server_stops_cleanly_on_sigterm(tmp_path):
    url, process = start_server(tmp_path)
    try:
        assert fetch(url + "api/health")[0] == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
        out, err = process.communicate()
        assert "stopped" in out and "Traceback" not in err and err.strip().endswith("cordswivel serve: terminated")
    finally:
        if process.poll() is None:
            process.kill()


# ---------------------------------------------------------------------- the page in a browser
@pytest.fixture(scope="module")
def browser_server(tmp_path_factory):
    """A server of its own (the Ctrl-C test stops the other)."""
    url, process = start_server(tmp_path_factory.mktemp("page"))
    yield url
    process.kill()


def test_deep_linked_page_shows_neighbours_heatmap_map_and_intents(browser_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
    try:
        driver.get(browser_server + "?word=fever&terms=virus,fever,cough,Italy")
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        columns = driver.find_elements(By.CSS_SELECTOR, "#neighbours .neighbours")
        assert [c.get_attribute("data-model") for c in columns] == ["first", "second"]
        shown = [a.text for a in columns[0].find_elements(By.CSS_SELECTOR, "td.word a")]
        assert shown == [w for w, _ in word_model(seed=0).most_similar("fever", 10)]
        heatmap_labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#heatmap .xtick text")]
        assert heatmap_labels == ["virus", "fever", "cough", "Italy"]
        assert driver.find_elements(By.CSS_SELECTOR, "#heatmap .hm, #heatmap image")  # the heatmap is drawn
        assert driver.find_elements(By.CSS_SELECTOR, "#map canvas, #map .scatterlayer")
        intents = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#intents td.intent")]
        assert len(intents) == 3 and set(intents) <= set(LABELS)
        columns[0].find_elements(By.CSS_SELECTOR, "td.word a")[0].click()  # a neighbour searches itself
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "word").get_attribute("value") == shown[0])
        assert "word=" + shown[0] in driver.current_url.replace("%2D", "-")
        screenshot = tmp_path / "explorer.png"
        driver.save_screenshot(str(screenshot))
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("CORDSWIVEL_SCREENSHOT"):
            shutil.copy(screenshot, os.environ["CORDSWIVEL_SCREENSHOT"])
    finally:
        driver.quit()


MARKUP_WORDS = ("virus", "fever", "<b>bold</b>", "<br>", "<a>anchor</a>", "<i>it</i>")


def test_markup_in_words_and_terms_is_shown_as_text_and_the_page_fits_a_phone(tmp_path):
    """Plotly renders some HTML in text; a vocabulary word or a ?terms= deep link must not become markup."""
    import urllib.parse

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from cordswivel.counting.vocab import Vocabulary
    from cordswivel.embedding.vectors import TextEmbedding

    rng = np.random.default_rng(0)
    vocab = Vocabulary(MARKUP_WORDS, np.arange(len(MARKUP_WORDS), 0, -1))
    TextEmbedding(vocab, rng.normal(size=(len(MARKUP_WORDS) + 1, 6)).astype(np.float32)).save(tmp_path / "m")
    process = subprocess.Popen(
        [sys.executable, "-m", "cordswivel.cli", "serve", str(tmp_path / "m"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    driver = None
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+/)", process.stdout.readline()).group(1)
        terms = ['<a href="https://example.org/">click</a>', "<b>bold</b>", '<span style="color:red">red</span>']
        driver = chromium()
        driver.set_window_size(420, 1400)
        driver.get(url + "?word=%3Cb%3Ebold%3C%2Fb%3E&terms=" + urllib.parse.quote(",".join(terms)))
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#heatmap .xtick text")]
        assert labels == terms  # the text as typed, not rendered
        for chart in ("heatmap", "map"):  # the markup made no element of its own
            made = driver.find_elements(By.CSS_SELECTOR, f"#{chart} svg a, #{chart} svg b, #{chart} svg br")
            assert made == [], chart
        assert not driver.find_elements(By.CSS_SELECTOR, '#heatmap [href*="example.org"]')
        wide = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        widest = driver.execute_script(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
        )
        assert wide <= 0, f"the page is {wide} px wider than a 420 px screen: {widest}"
        driver.get(url)
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert "terms=" not in driver.current_url  # the default terms stay out of the address
    finally:
        if driver is not None:
            driver.quit()
        process.kill()


def test_limits_come_from_the_config():
    explorer = Explorer({"a": word_model()}, config=ServeConfig(max_body_bytes=100))
    with TestClient(create_app(explorer)) as client:
        response = client.post("/api/embed", content=json.dumps({"texts": ["x" * 200]}))
        assert response.status_code == 413
    time.sleep(0)
