"""The explorer page's analogy, ranking, drift and map panels in headless Chromium, against the API."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding

from helpers import chromium

MOVED = ("w17", "w400", "w1234", "w1999")
PANELS = ("map-section", "analogy-section", "rank-section", "drift-section")


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    """``cordswivel serve OLD NEW``: 2,000 words, NEW a rotation of OLD with noise where four words
    took other words' places. Yields (URL, OLD's model)."""
    root = tmp_path_factory.mktemp("releases")
    rng = np.random.default_rng(0)
    words = tuple(f"w{i}" for i in range(2000))
    vectors = rng.normal(size=(2000, 32))
    old = TextEmbedding(Vocabulary(words, np.full(2000, 100)), np.vstack([vectors, np.zeros((1, 32))]))
    moved = vectors + rng.normal(size=vectors.shape) * 0.1
    for word, donor in zip(MOVED, (5, 6, 7, 8), strict=True):
        moved[words.index(word)] = vectors[donor] + rng.normal(size=32) * 0.1
    rotation = np.linalg.qr(rng.normal(size=(32, 32)))[0]
    new = TextEmbedding(Vocabulary(words, np.full(2000, 100)), np.vstack([moved @ rotation, np.zeros((1, 32))]))
    old.save(root / "old")
    new.save(root / "new")
    process = subprocess.Popen(
        [sys.executable, "-m", "cordswivel.cli", "serve", str(root / "old"), str(root / "new"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    match = re.search(r"at (http://127\.0\.0\.1:\d+/)", process.stdout.readline())
    if not match:
        process.kill()
        pytest.fail("the server printed no URL")
    yield match.group(1), old
    process.kill()


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_analogy_ranking_drift_and_tsne_map_panels(two_releases, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, old = two_releases
    driver = chromium()
    try:
        driver.get(url + "?map=tsne&word=w3")
        WebDriverWait(driver, 120).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))

        # the drift table, drawn at start with two models: the four planted words first
        rows = driver.find_elements(By.CSS_SELECTOR, "#drift-results tbody tr")
        assert len(rows) == 100 and {r.find_elements(By.TAG_NAME, "td")[1].text for r in rows[:4]} == set(MOVED)
        rows[0].find_element(By.CSS_SELECTOR, "td.word a").click()  # its neighbours in both models
        WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#drift-neighbours h3")) == 2)
        titles = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#drift-neighbours h3")]
        assert titles == ["old", "new"]

        # the analogy panel shows the API's answer
        for field, word in (("analogy-a", "w1"), ("analogy-b", "w2"), ("analogy-c", "w3")):
            driver.find_element(By.ID, field).send_keys(word)
        driver.find_element(By.CSS_SELECTOR, "#analogy-form button").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#analogy-results tbody tr"))
        shown = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#analogy-results td.word a")]
        api = post(url + "api/analogy", {"positive": ["w2", "w3"], "negative": ["w1"], "model": "old"})
        assert (
            shown
            == [r["term"] for r in api["results"]]
            == [w for w, _ in old.most_similar(["w2", "w3"], 10, negative=["w1"])]
        )

        # the ranking panel: candidates ranked as the API ranks them, unknown ones listed, a CSV to download
        driver.find_element(By.ID, "rank-positive").send_keys("w10, w11")
        driver.find_element(By.ID, "rank-candidates").send_keys("w20\nw21 w22\nw23\nnothing\n")
        driver.find_element(By.CSS_SELECTOR, "#rank-form button").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rank-results tbody tr"))
        ranked = [
            r.find_elements(By.TAG_NAME, "td")[1].text
            for r in driver.find_elements(By.CSS_SELECTOR, "#rank-results tbody tr")
        ]
        assert ranked == list(old.rank(["w10", "w11"], ["w20", "w21 w22", "w23", "nothing"]).terms)
        assert "nothing" in driver.find_element(By.ID, "rank-missing").text
        assert driver.find_element(By.ID, "rank-download").get_attribute("href").startswith("blob:")

        # the map: t-SNE from the deep link, clusters labelled, the searched word highlighted
        assert driver.find_element(By.ID, "map").get_attribute("data-method") == "tsne"
        assert driver.find_element(By.ID, "map-method").get_attribute("value") == "tsne"
        assert driver.find_elements(By.CSS_SELECTOR, "#map .annotation-text")  # the cluster labels
        highlighted = driver.execute_script("return document.getElementById('map').data[1].text")
        on_map = [w for w in ["w3", *(w for w, _ in old.most_similar("w3", 10))] if int(w[1:]) < 1000]  # first 1,000
        assert highlighted == on_map

        driver.set_window_size(1280, 5000)  # every panel within the window: screenshots crop to it
        for panel in PANELS:  # a picture of each new panel
            path = tmp_path / f"{panel}.png"
            driver.find_element(By.ID, panel).screenshot(str(path))
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
            if os.environ.get("CORDSWIVEL_SCREENSHOTS"):
                shutil.copy(path, os.environ["CORDSWIVEL_SCREENSHOTS"])
    finally:
        driver.quit()
