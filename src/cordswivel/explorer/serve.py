"""``cordswivel serve``: the explorer page and its JSON API (Starlette on uvicorn).

The API (docs/design.md, "Explorer and API") answers every bad request with a 4xx status and
``{"error": "one line"}``: unknown word or model 404, malformed JSON 400, wrong types or values 422,
a body over the limit 413. The page (``static/``) is plain HTML and JavaScript that calls the API;
its charts use the Plotly.js bundled in the ``plotly`` wheel, served from that package, so nothing is
fetched from the internet.
"""

from __future__ import annotations

import gc
import gzip
import importlib.util
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import ANALOGY_METHODS, DRIFT_MIN_COUNT, DRIFT_NEIGHBOURS, NEIGHBOURS
from ..errors import ConfigError, NotFoundError, OutOfVocabularyError
from .backend import Explorer

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


def plotly_js() -> Path:
    """plotly.min.js as the ``plotly`` wheel ships it (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    raise ConfigError("plotly.min.js not found: install the plotly package (pip install plotly)")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"request body of {int(length)} bytes is over the limit of {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"request body is over the limit of {limit} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise HTTPException(400, f"malformed JSON: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(data, dict):
        raise HTTPException(422, f"the request body must be a JSON object, got {type(data).__name__}")
    try:  # JSON's \ud800 escapes make strings no UTF-8 can hold, which would fail deep inside a query
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(400, "malformed JSON: a string holds a lone surrogate (\\ud800-\\udfff)") from None
    return data


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if name not in data or (data[name] is None and default is not ...):
        if default is ...:
            raise HTTPException(422, f"missing field {name!r}")
        return default
    value = data[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
        raise HTTPException(422, f"field {name!r} must be {names}, got {type(value).__name__}")
    return value


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise HTTPException(422, f"{name} must be an integer, got {raw!r}") from None


def create_app(explorer: Explorer) -> Starlette:
    """The ASGI application: the page at ``/``, static files, and the API under ``/api``."""
    limit = explorer.config.max_body_bytes

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    compressed: list[bytes] = []  # plotly.min.js gzipped (4.8 MB -> 1.4 MB), once, at the first request

    async def plotly(request: Request) -> Response:
        # the vendored file changes only with the package: the browser may keep it a day
        headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
        if "gzip" not in request.headers.get("accept-encoding", ""):
            return FileResponse(plotly_js(), media_type="text/javascript", headers=headers)
        if not compressed:
            compressed.append(await run_in_threadpool(gzip.compress, plotly_js().read_bytes(), 6))
        return Response(compressed[0], media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": list(explorer.models), "classifier": explorer.has_classifier})

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "models": [
                    {"name": name, "vocab_size": len(m), "dim": m.embedding_dim} for name, m in explorer.models.items()
                ],
                "classifier": explorer.has_classifier,
                "map_methods": list(explorer.map_methods),
            }
        )

    async def neighbors(request: Request) -> Response:
        word = request.query_params.get("word")
        if not word:
            raise HTTPException(422, "missing query parameter 'word'")
        name, _ = explorer.model(request.query_params.get("model"))
        found = explorer.neighbours(word, _int_param(request, "k", 10), name)
        neighbours = [{"word": w, "cosine": c} for w, c in found]
        subword = word not in explorer.models[name]  # no vocabulary entry: its vector came from its subwords
        return JSONResponse({"word": word, "model": name, "subword": subword, "neighbors": neighbours})

    async def complete(request: Request) -> Response:
        name, _ = explorer.model(request.query_params.get("model"))
        prefix = request.query_params.get("prefix", "")
        words = explorer.complete(prefix, _int_param(request, "k", explorer.config.completions), name)
        return JSONResponse({"prefix": prefix, "model": name, "words": words})

    async def embed(request: Request) -> Response:
        data = await _json_body(request, limit)
        texts = _field(data, "texts", list)
        name, vectors = await run_in_threadpool(explorer.embed, texts, _field(data, "model", str, None))
        return JSONResponse({"model": name, "dim": int(vectors.shape[1]), "embeddings": vectors.tolist()})

    async def similarity(request: Request) -> Response:
        data = await _json_body(request, limit)
        terms = _field(data, "terms", list)
        cosine = _field(data, "cosine", bool, False)
        name, _ = explorer.model(_field(data, "model", str, None))
        result = await run_in_threadpool(explorer.similarity, terms, cosine, name)
        return JSONResponse(
            {
                "model": name,
                "terms": list(result.terms),
                "cosine": result.cosine,
                "oov": list(result.oov),
                "subword": list(result.subword),
                "matrix": result.matrix.tolist(),
            }
        )

    async def classify(request: Request) -> Response:
        data = await _json_body(request, limit)
        texts = _field(data, "texts", list)
        intents = await run_in_threadpool(explorer.classify, texts)
        return JSONResponse({"predictions": [{"label": i.label, "probabilities": i.probabilities} for i in intents]})

    async def word_map(request: Request) -> Response:
        name, _ = explorer.model(request.query_params.get("model"))
        n = _int_param(request, "n", explorer.config.map_words)
        method = request.query_params.get("method", "pca")
        result = await run_in_threadpool(explorer.word_map, n, name, method)
        cluster = result.cluster if result.cluster is not None else np.full(len(result.words), -1)
        groups = [
            {"id": number, "label": c.label, "size": c.size, "x": round(c.x, 5), "y": round(c.y, 5)}
            for number, c in enumerate(result.clusters)
        ]
        ratio = result.explained_variance_ratio
        return JSONResponse(
            {
                "model": name,
                "method": result.method,
                "words": list(result.words),
                "x": result.x.round(5).tolist(),
                "y": result.y.round(5).tolist(),
                "explained_variance_ratio": list(ratio) if ratio is not None else None,
                "cluster": cluster.tolist(),
                "clusters": groups,
            }
        )

    def _terms(data: dict[str, Any], name: str, required: bool = False) -> list[str]:
        return _field(data, name, list) if required else _field(data, name, list, [])

    async def analogy(request: Request) -> Response:
        data = await _json_body(request, limit)
        name, _ = explorer.model(_field(data, "model", str, None))
        method = _field(data, "method", str, ANALOGY_METHODS[0])
        candidates = _field(data, "candidates", list, None)
        found = explorer.analogy(
            _terms(data, "positive"),
            _terms(data, "negative"),
            _field(data, "k", int, NEIGHBOURS),
            method,
            candidates,
            name,
        )
        results = [{"term": t, "score": s} for t, s in found]
        return JSONResponse({"model": name, "method": method, "results": results})

    async def rank(request: Request) -> Response:
        data = await _json_body(request, limit)
        name, _ = explorer.model(_field(data, "model", str, None))
        args = (_terms(data, "positive"), _terms(data, "candidates", required=True), _terms(data, "negative"), name)
        ranking = await run_in_threadpool(explorer.rank, *args)
        rows = [{"rank": k, "term": t, "score": s} for k, t, s in ranking.rows()]
        missing, subword = list(ranking.missing), list(ranking.subword)
        return JSONResponse({"model": name, "ranking": rows, "missing": missing, "subword": subword})

    async def drift(request: Request) -> Response:
        names = list(explorer.models)
        params = request.query_params
        if len(names) < 2 and not (params.get("old") and params.get("new")):
            raise NotFoundError("comparing needs two models: start the server with two, e.g. serve OLD NEW")
        old, new = params.get("old") or names[0], params.get("new") or names[1]
        order = params.get("order", "most")
        if order not in ("most", "least"):
            raise HTTPException(422, f"order must be most or least, got {order!r}")
        by = params.get("by", "cosine")
        k, min_count = _int_param(request, "k", DRIFT_NEIGHBOURS), _int_param(request, "min_count", DRIFT_MIN_COUNT)
        top = _int_param(request, "limit", explorer.config.drift_rows)
        explorer.check_count("limit", top, explorer.config.max_neighbours)
        table = await run_in_threadpool(explorer.drift, old, new, by, order == "most", k, min_count)
        return JSONResponse(
            {"old": old, "new": new, "by": by, "k": table.k, "shared_words": len(table), "rows": table.head(top).rows()}
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":  # Starlette's own, for an unknown path
            detail = f"no such page: {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return _error(exc.status_code, detail)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, str(exc))

    async def invalid(request: Request, exc: Exception) -> Response:
        return _error(422, str(exc))

    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); see the server's log")

    handlers: dict[Any, Callable] = {
        HTTPException: http_error,
        OutOfVocabularyError: not_found,
        NotFoundError: not_found,
        ConfigError: invalid,
        Exception: internal,
    }
    routes = [
        Route("/", index),
        Route("/static/vendor/plotly.min.js", plotly),
        Mount("/static", GZipMiddleware(StaticFiles(directory=STATIC), minimum_size=500), name="static"),
        Route("/api/health", health),
        Route("/api/models", models),
        Route("/api/neighbors", neighbors),
        Route("/api/complete", complete),
        Route("/api/embed", embed, methods=["POST"]),
        Route("/api/similarity", similarity, methods=["POST"]),
        Route("/api/classify", classify, methods=["POST"]),
        Route("/api/map", word_map),
        Route("/api/analogy", analogy, methods=["POST"]),
        Route("/api/rank", rank, methods=["POST"]),
        Route("/api/drift", drift),
    ]
    return Starlette(routes=routes, exception_handlers=handlers)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: a free one); IPv4 or IPv6 as ``host`` is."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(
    explorer: Explorer,
    host: str | None = None,
    port: int | None = None,
    *,
    log_level: str = "warning",
    on_ready: Callable[[str], None] = print,
) -> None:
    """Serve ``explorer`` until Ctrl-C or SIGTERM, which uvicorn raises again once it has shut down
    gracefully (the CLI's exit codes 130 and 143, as every command's); ``on_ready`` gets the URL once
    the port is bound."""
    import uvicorn

    sock = bind(explorer.config.host if host is None else host, explorer.config.port if port is None else port)
    config = uvicorn.Config(
        create_app(explorer), log_level=log_level, access_log=log_level in ("info", "debug"), lifespan="off"
    )
    on_ready(url_of(sock))
    gc.freeze()  # the loaded libraries' objects are permanent: collections then skip them, no long pauses
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
