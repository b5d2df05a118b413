// The cordswivel explorer page: every panel is filled from the JSON API (/api/...).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { models: [], classifier: false, highlighted: [] };

function setStatus(message, isError) {
  const status = $("status");
  status.textContent = message || "";
  status.className = isError ? "error" : "";
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function currentModel() { return $("model").value; }

function updateLink(params) {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
  }
  window.history.replaceState(null, "", url);
}

// Plotly reads a subset of HTML in any text it draws (<a href>, <b>, <br>, <span style>): words and
// terms come from users and models, so each goes to Plotly as text, its markup characters escaped.
const plain = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ------------------------------------------------------------------ neighbours
async function searchWord(word) {
  word = word.trim();
  if (!word) return;
  $("word").value = word;
  updateLink({ word });
  const k = Number($("k").value) || 10;
  const names = [currentModel(), ...state.models.filter((m) => m !== currentModel())];
  const container = $("neighbours");
  container.replaceChildren();
  const results = await Promise.all(names.map((model) =>
    api(`/api/neighbors?word=${encodeURIComponent(word)}&k=${k}&model=${encodeURIComponent(model)}`)
      .catch((error) => ({ model, error: error.message }))));
  const found = results.filter((r) => !r.error);
  const shared = found.length > 1
    ? found.map((r) => new Set(r.neighbors.map((n) => n.word))).reduce((a, b) => new Set([...a].filter((w) => b.has(w))))
    : new Set();
  for (const result of results) container.append(neighbourTable(result, shared, found.length > 1));
  state.highlighted = found.length && found[0].model === currentModel()
    ? [word, ...found[0].neighbors.map((n) => n.word)] : [];
  highlightMap();
  setStatus(found.length ? "" : results[0].error, !found.length);
}

function neighbourTable(result, shared, comparing) {
  const box = element("div", { class: "neighbours", "data-model": result.model });
  box.append(element("h3", {}, result.model));
  if (result.subword) box.append(element("p", { class: "muted subword" }, `${result.word}: not in the vocabulary, built from its subwords`));
  if (result.error) {
    box.append(element("p", { class: "error" }, result.error));
    return box;
  }
  if (comparing) box.append(element("p", { class: "muted" }, `${shared.size} of ${result.neighbors.length} shared by all models`));
  const body = element("tbody");
  for (const n of result.neighbors) {
    const link = element("a", { role: "button" }, n.word);
    link.addEventListener("click", () => searchWord(n.word));
    const bar = element("span", { class: "bar" });
    bar.style.width = `${Math.max(0, n.cosine) * 8}em`;
    const row = element("tr", { class: shared.has(n.word) ? "shared" : "" },
      element("td", { class: "word" }, link), element("td", {}, n.cosine.toFixed(3)), element("td", {}, bar));
    body.append(row);
  }
  box.append(element("table", {}, element("thead", {},
    element("tr", {}, element("th", {}, "word"), element("th", {}, "cosine"), element("th", {}, ""))), body));
  return box;
}

let completionTimer = null;
function complete() {
  clearTimeout(completionTimer);
  completionTimer = setTimeout(async () => {
    const prefix = $("word").value.trim();
    if (!prefix) return;
    try {
      const data = await api(`/api/complete?prefix=${encodeURIComponent(prefix)}&model=${encodeURIComponent(currentModel())}`);
      $("completions").replaceChildren(...data.words.map((w) => element("option", { value: w })));
    } catch (error) { /* completion is a convenience: errors show on search */ }
  }, 120);
}

// ------------------------------------------------------------------ heatmaps
function drawHeatmap(target, terms, matrix, title) {
  const text = matrix.map((row) => row.map((v) => v.toFixed(2)));
  const labels = terms.map(plain);
  Plotly.react(target, [{
    type: "heatmap", z: matrix, x: labels, y: labels, text, texttemplate: "%{text}",
    colorscale: "YlOrRd", reversescale: true, zmin: Math.min(0, ...matrix.flat()), zmax: 1, hovertemplate: "%{y} · %{x}: %{z:.3f}<extra></extra>",
  }], {
    title: { text: title }, margin: { l: 120, r: 20, t: 40, b: 120 }, height: Math.max(300, 160 + 34 * terms.length),
    yaxis: { autorange: "reversed", type: "category" }, xaxis: { tickangle: -45, type: "category" },
  }, { responsive: true, displaylogo: false });
}

async function drawTerms(termsText, link = true) {
  const terms = termsText.split(",").map((t) => t.trim()).filter(Boolean);
  if (!terms.length) return;
  $("terms").value = terms.join(", ");
  if (link) updateLink({ terms: terms.join(",") });  // not for the default terms a page starts with
  try {
    const cosine = $("cosine").checked;
    const data = await api("/api/similarity", { terms, cosine, model: currentModel() });
    drawHeatmap("heatmap", data.terms, data.matrix, cosine ? "cosine similarity" : "inner product / max");
    const notes = [];
    if (data.oov.length) notes.push(`not in the vocabulary (the model's OOV vector): ${data.oov.join(", ")}`);
    if (data.subword.length) notes.push(`not in the vocabulary, built from subwords: ${data.subword.join(", ")}`);
    $("heatmap-oov").textContent = notes.join("; ");
    setStatus("");
  } catch (error) { setStatus(error.message, true); }
}

// ------------------------------------------------------------------ map
// 20 distinguishable colours for clusters (Tableau 20); words in no cluster are grey
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
  "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#aec7e8"];
const NOISE = "#d0d4da";

let mapData = null;
async function drawMap() {
  const n = Number($("map-n").value) || 1000;
  const method = $("map-method").value || "pca";
  setStatus(method === "pca" ? "" : `computing the ${method} map…`);
  try {
    mapData = await api(`/api/map?n=${n}&method=${method}&model=${encodeURIComponent(currentModel())}`);
    const ratio = mapData.explained_variance_ratio;
    const axis = (k) => (ratio ? `PC ${k + 1} (${(100 * ratio[k]).toFixed(1)}%)` : `${mapData.method} ${k + 1}`);
    const labels = mapData.words.map((w, i) => {
      const c = mapData.cluster[i];
      return c >= 0 ? `${plain(w)} · ${plain(mapData.clusters[c].label)}` : plain(w);
    });
    Plotly.react("map", [{
      type: "scattergl", mode: "markers", x: mapData.x, y: mapData.y, text: labels, name: "words",
      hovertemplate: "%{text}<extra></extra>",
      marker: { size: 5, opacity: 0.7, color: mapData.cluster.map((c) => (c >= 0 ? PALETTE[c % PALETTE.length] : NOISE)) },
    }, {
      type: "scattergl", mode: "markers+text", x: [], y: [], text: [], name: "searched", textposition: "top center",
      hovertemplate: "%{text}<extra></extra>", marker: { size: 10, color: "#111827", line: { color: "#fff", width: 1 } },
    }], {
      margin: { l: 40, r: 20, t: 20, b: 40 }, showlegend: false, dragmode: "zoom", hovermode: "closest",
      xaxis: { title: { text: axis(0) } }, yaxis: { title: { text: axis(1) } },
      annotations: mapData.clusters.map((c) => ({
        x: c.x, y: c.y, text: plain(c.label), showarrow: false, font: { size: 11, color: "#1d2330" },
        bgcolor: "rgba(255,255,255,0.7)",
      })),
    }, { responsive: true, displaylogo: false });
    $("map").dataset.method = mapData.method;
    highlightMap();
    setStatus("");
  } catch (error) { setStatus(error.message, true); }
}

function highlightMap() {
  if (!mapData || !window.Plotly || !$("map").data) return;
  const index = new Map(mapData.words.map((w, i) => [w, i]));
  const shown = state.highlighted.filter((w) => index.has(w));
  Plotly.restyle("map", {
    x: [shown.map((w) => mapData.x[index.get(w)])], y: [shown.map((w) => mapData.y[index.get(w)])],
    text: [shown.map(plain)],
  }, [1]);
}

// ------------------------------------------------------------------ analogies and rankings
function resultTable(columns, rows, onClick) {
  const body = element("tbody");
  for (const row of rows) {
    body.append(element("tr", {}, ...columns.map(([key, format], k) => {
      const value = format ? format(row[key]) : String(row[key]);
      if (k === 1 && onClick) {
        const link = element("a", { role: "button" }, value);
        link.addEventListener("click", () => onClick(row));
        return element("td", { class: "word" }, link);
      }
      return element("td", {}, value);
    })));
  }
  return element("table", { class: "results" },
    element("thead", {}, element("tr", {}, ...columns.map(([key]) => element("th", {}, key)))), body);
}

const score = (x) => x.toFixed(3);
const terms = (text) => text.split(",").map((t) => t.trim()).filter(Boolean);

async function answerAnalogy() {
  const [a, b, c] = ["analogy-a", "analogy-b", "analogy-c"].map((id) => $(id).value.trim());
  if (!a || !b || !c) return;
  try {
    const data = await api("/api/analogy", {
      positive: [b, c], negative: [a], k: 10, method: $("analogy-method").value, model: currentModel(),
    });
    const rows = data.results.map((r, i) => ({ "#": i + 1, term: r.term, score: r.score }));
    $("analogy-results").replaceChildren(resultTable([["#"], ["term"], ["score", score]], rows,
      (row) => searchWord(row.term)));
    setStatus("");
  } catch (error) {
    $("analogy-results").replaceChildren(element("p", { class: "error" }, error.message));
  }
}

let rankingUrl = null;
async function rankCandidates() {
  const candidates = $("rank-candidates").value.split("\n").map((t) => t.trim()).filter(Boolean);
  const positive = terms($("rank-positive").value);
  if (!candidates.length || !positive.length) return;
  try {
    const data = await api("/api/rank", {
      positive, negative: terms($("rank-negative").value), candidates, model: currentModel(),
    });
    $("rank-results").replaceChildren(resultTable([["rank"], ["term"], ["score", score]], data.ranking));
    const notes = [];
    if (data.missing.length) notes.push(`not ranked, no token in the vocabulary: ${data.missing.join(", ")}`);
    if (data.subword.length) notes.push(`ranked by their subwords (not in the vocabulary): ${data.subword.join(", ")}`);
    $("rank-missing").textContent = notes.join("; ");
    const quote = (t) => (/[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
    const csv = ["rank,term,score", ...data.ranking.map((r) => `${r.rank},${quote(r.term)},${r.score.toFixed(6)}`)];
    if (rankingUrl) URL.revokeObjectURL(rankingUrl);
    rankingUrl = URL.createObjectURL(new Blob([csv.join("\n") + "\n"], { type: "text/csv" }));
    $("rank-download").href = rankingUrl;
    $("rank-download").hidden = false;
    setStatus("");
  } catch (error) {
    $("rank-results").replaceChildren(element("p", { class: "error" }, error.message));
  }
}

// ------------------------------------------------------------------ comparing models
async function compareModels() {
  const old = $("drift-old").value, now = $("drift-new").value;
  const params = new URLSearchParams({
    old, new: now, by: $("drift-by").value, order: $("drift-order").value,
    min_count: $("drift-min-count").value || "0",
  });
  setStatus("comparing the models…");
  try {
    const data = await api(`/api/drift?${params}`);
    const columns = [["#"], ["word"], ["cosine", score], ["overlap", score], ["count_old"], ["count_new"]];
    const rows = data.rows.map((r, i) => ({ "#": i + 1, ...r }));
    $("drift-results").replaceChildren(
      element("p", { class: "muted" }, `${data.shared_words.toLocaleString()} shared words; overlap of the ${data.k} nearest`),
      resultTable(columns, rows, (row) => driftNeighbours(row.word, old, now)));
    setStatus("");
  } catch (error) {
    $("drift-results").replaceChildren(element("p", { class: "error" }, error.message));
    setStatus("");
  }
}

async function driftNeighbours(word, old, now) {
  const results = await Promise.all([old, now].map((model) =>
    api(`/api/neighbors?word=${encodeURIComponent(word)}&k=10&model=${encodeURIComponent(model)}`)
      .catch((error) => ({ model, error: error.message }))));
  const found = results.filter((r) => !r.error);
  const shared = found.length === 2
    ? new Set(found[0].neighbors.map((n) => n.word).filter((w) => found[1].neighbors.some((n) => n.word === w)))
    : new Set();
  $("drift-neighbours").replaceChildren(...results.map((r) => neighbourTable(r, shared, true)));
}

// ------------------------------------------------------------------ sentences
async function compareSentences() {
  const texts = $("sentences").value.split("\n").map((t) => t.trim()).filter(Boolean);
  if (!texts.length) return;
  const labels = texts.map((t, i) => `sentence ${i + 1}`);
  try {
    const data = await api("/api/similarity", { terms: texts, cosine: true, model: currentModel() });
    drawHeatmap("sentence-heatmap", labels, data.matrix, "cosine similarity of the sentences' embeddings");
    setStatus("");
  } catch (error) { setStatus(error.message, true); return; }
  let predictions = null;
  if (state.classifier) {
    try { predictions = (await api("/api/classify", { texts })).predictions; } catch (error) { setStatus(error.message, true); }
  }
  const labelNames = predictions ? Object.keys(predictions[0].probabilities) : [];
  const table = $("intents");
  table.tHead.replaceChildren(element("tr", {}, element("th", {}, "#"), element("th", {}, "sentence"),
    ...(predictions ? [element("th", {}, "intent"), ...labelNames.map((l) => element("th", {}, l))] : [])));
  table.tBodies[0].replaceChildren(...texts.map((text, i) => element("tr", {},
    element("td", {}, `${i + 1}`), element("td", {}, text),
    ...(predictions ? [element("td", { class: "intent" }, element("strong", {}, predictions[i].label)),
      ...labelNames.map((l) => element("td", {}, predictions[i].probabilities[l].toFixed(3)))] : []))));
  table.hidden = false;
  $("intents-note").textContent = state.classifier ? ""
    : "Start the server with --classifier DIR to see each sentence's citation intent.";
}

// ------------------------------------------------------------------ start
async function start() {
  const params = new URLSearchParams(window.location.search);
  try {
    const info = await api("/api/models");
    state.models = info.models.map((m) => m.name);
    state.classifier = info.classifier;
    $("model").replaceChildren(...info.models.map((m) => element("option", { value: m.name }, m.name)));
    if (params.get("model") && state.models.includes(params.get("model"))) $("model").value = params.get("model");
    const describe = () => {
      const m = info.models.find((x) => x.name === currentModel());
      $("model-info").textContent = `${m.vocab_size.toLocaleString()} words × ${m.dim}`;
    };
    describe();
    $("model").addEventListener("change", () => {
      describe();
      updateLink({ model: currentModel() });
      if ($("word").value) searchWord($("word").value);
      drawTerms($("terms").value);
      drawMap();
    });
    $("map-method").replaceChildren(...info.map_methods.map((m) =>
      element("option", { value: m }, { pca: "PCA", tsne: "t-SNE", umap: "UMAP" }[m] || m)));
    if (info.map_methods.includes(params.get("map"))) $("map-method").value = params.get("map");
    if (state.models.length > 1) {
      for (const [id, k] of [["drift-old", 0], ["drift-new", 1]]) {
        $(id).replaceChildren(...state.models.map((m) => element("option", { value: m }, m)));
        $(id).value = state.models[k];
      }
      $("drift-section").hidden = false;
    }
  } catch (error) { setStatus(`cannot reach the API: ${error.message}`, true); return; }

  $("word-form").addEventListener("submit", (e) => { e.preventDefault(); searchWord($("word").value); });
  $("word").addEventListener("input", complete);
  $("terms-form").addEventListener("submit", (e) => { e.preventDefault(); drawTerms($("terms").value); });
  $("cosine").addEventListener("change", () => drawTerms($("terms").value));
  $("map-form").addEventListener("submit", (e) => { e.preventDefault(); updateLink({ map: $("map-method").value }); drawMap(); });
  $("map-method").addEventListener("change", () => { updateLink({ map: $("map-method").value }); drawMap(); });
  $("analogy-form").addEventListener("submit", (e) => { e.preventDefault(); answerAnalogy(); });
  $("rank-form").addEventListener("submit", (e) => { e.preventDefault(); rankCandidates(); });
  $("drift-form").addEventListener("submit", (e) => { e.preventDefault(); compareModels(); });
  $("sentences-form").addEventListener("submit", (e) => { e.preventDefault(); compareSentences(); });

  if (params.get("terms")) $("terms").value = params.get("terms").split(",").join(", ");
  const drift = $("drift-section").hidden ? [] : [compareModels()];
  await Promise.all([drawTerms($("terms").value, params.has("terms")), drawMap(), compareSentences(), ...drift]);
  if (params.get("word")) await searchWord(params.get("word"));
  document.body.dataset.ready = "true";  // for tests: the deep-linked panels are drawn
}

start();
