"""Vocabulary and co-occurrence counting, written as Swivel shards (DESIGN.md section 2).

Three Dask passes over the corpus partitions. Pass 1 tokenizes each partition once, counts its
token types and keeps its token ids in a scratch file. Pass 2 maps those ids to vocabulary ids and
counts co-occurrences in a Numba kernel: OOV tokens are dropped first (the window stretches over
them), each pair (w[p], w[p+d]), d = 1..window, inside one unit adds 1/d to both (i, j) and (j, i),
and every token occurrence adds 1 to (i, i). Partial counts spill to scratch files whenever the
worker's share of the memory budget fills. Pass 3 sums the spills of each row shard into blocks.

Counts are summed as integers in units of 1/lcm(1..window) (``count_unit``), so the result does
not depend on how the corpus was partitioned, spilled or scheduled: any run gives identical shards.
(Windows above 20 use lcm(1..20) units and round 1/d to the nearest unit, a relative error < 1e-8.)

On-disk format of a co-occurrence directory (what ``cordswivel train --cooccur DIR`` reads):

- ``config.json``: counting settings and corpus statistics (tokens, units, types, nnz, total);
- ``vocab.tsv``: the vocabulary (``vocab.Vocabulary``), V = num_shards * shard_size words;
- ``row_sums.npy``, ``col_sums.npy``: float64 (V,), sums of each row / column of the full matrix;
- ``blocks/RRRR-CCCC.npy`` for every shard pair (r, c): the non-zero cells of block (r, c) as a 1-D
  NumPy array of records ``(row: int32, col: int32, count: float32)`` with local indices. Word id i lives in shard
  i % num_shards at local index i // num_shards, so block (r, c) cell (a, b) is the count of word
  pair (a * num_shards + r, b * num_shards + c).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import logging
import math
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numba
import numpy as np

from .chunks import ChunkInterner
from .corpus import DEFAULT_TEXT_FIELDS, ON_ERROR_CHOICES, Corpus, Partition, SkipCounts
from .errors import ConfigError, CordswivelError, ModelFormatError
from .fileio import atomic_directory, atomic_write_json, read_json
from .tokenizer import normalize_token
from .vocab import Vocabulary, build_vocabulary

log = logging.getLogger(__name__)

FORMAT = "cordswivel-cooccurrence"
FORMAT_VERSION = 1
BLOCK_DIR = "blocks"
EXACT_WINDOW = 20     # up to this window, 1/d is exact in count units (lcm(1..20) < 2**28)


def count_unit(window: int) -> int:
    """Count units per co-occurrence: every weight 1/d (d <= window) is a whole number of units."""
    return math.lcm(*range(1, min(window, EXACT_WINDOW) + 1))


def parse_size(text: str | int) -> int:
    """Bytes in ``text``, read as Dask reads sizes: ``512MB``, ``1.5GB``, ``2GiB``, ``100000``."""
    from dask.utils import parse_bytes

    try:
        size = int(parse_bytes(text))
    except (ValueError, TypeError):
        raise ConfigError(f"memory limit {text!r} is not a size such as 512MB or 2GB") from None
    if size <= 0:
        raise ConfigError(f"memory limit must be positive, got {text!r}")
    return size


def default_memory_limit() -> int:
    """Half of this machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


@dataclass(frozen=True)
class CooccurConfig:
    """Settings of the vocabulary and co-occurrence passes."""

    min_count: int = 5                # keep tokens seen at least this often (the module used 50)
    max_vocab: int | None = None      # cap on the vocabulary before truncation to shards
    window: int = 10                  # co-occurrence window, tokens each side
    shard_size: int = 4096            # rows per shard; the vocabulary is a multiple of it
    lowercase: bool = False           # lowercase tokens (the published module is cased)
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS  # JSON lines fields read as text
    dense_size: int = 2048            # most frequent words counted in a dense matrix per worker

    def validate(self) -> None:
        for name in ("min_count", "window", "shard_size", "dense_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if self.max_vocab is not None and self.max_vocab < self.shard_size:
            raise ConfigError(f"max-vocab {self.max_vocab} is smaller than one shard ({self.shard_size})")


@dataclass(frozen=True)
class CooccurStats:
    """What the corpus passes saw."""

    tokens: int          # tokens after tokenization, OOV included
    units: int           # text units (lines, paragraphs, titles)
    types: int           # distinct tokens
    vocab_size: int
    nnz: int             # non-zero cells of the full (symmetric) matrix
    total: float         # sum of all cells
    seconds: float
    spills: int = 0      # partial-count files written (at least one per partition)
    skipped: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- pass 1: tokens

@dataclass
class _PartitionTokens:
    types: list[str]
    counts: np.ndarray       # (types,) int64
    ids_path: str
    tokens: int
    units: int
    skips: SkipCounts


def _tokenize_partition(partition: Partition, lowercase: bool, on_error: str,
                        ids_path: str) -> _PartitionTokens:
    """Tokenize one partition; save its token ids and unit lengths to ``ids_path``."""
    skips = SkipCounts()
    interner = ChunkInterner()
    id_parts, length_parts = [], []
    for buffer, unit_ends in partition.unit_batches(on_error, skips):
        chunk_ids, lengths = interner.add(buffer, unit_ends)
        id_parts.append(chunk_ids)
        length_parts.append(lengths)
    # Normalize each distinct chunk once, with the tokenizer's own normalize_token.
    local = collections.defaultdict()
    local.default_factory = local.__len__
    mapping = np.fromiter((local[t] if t else -1 for t in (normalize_token(w, lowercase) for w in interner.chunks())),
                          dtype=np.int32, count=len(interner))
    ids = mapping[np.concatenate(id_parts)] if id_parts else np.zeros(0, np.int32)
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, np.int64)
    keep = ids >= 0
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    ends = np.cumsum(lengths)
    lengths = kept_before[ends] - kept_before[ends - lengths]
    ids = ids[keep]
    counts = np.bincount(ids, minlength=len(local)).astype(np.int64)
    types = list(local)  # tokens hold no whitespace: a newline joins them safely
    with open(ids_path, "wb") as handle:
        np.savez(handle, ids=ids, lengths=lengths,
                 types=np.frombuffer("\n".join(types).encode("utf-8", "surrogatepass"), dtype=np.uint8))
    return _PartitionTokens(types, counts, ids_path, int(ids.size), int(lengths.size), skips)


# --------------------------------------------------------------------------- pass 2: pairs

@numba.njit(cache=True, inline="always")
def _d_bits(window):
    """Bits of the distance field of an encoded key (distances 0..window)."""
    bits = 1
    while (1 << bits) <= window:
        bits += 1
    return bits


@numba.njit(cache=True, nogil=True)
def _count_pairs(ids, lengths, lut, window, id_bits, unit_weights, dense, keys):
    """Count one chunk of units: dense cells for the top words, encoded keys for the rest.

    A key is ``pair << d_bits | d`` with ``pair = i << id_bits | j`` (``_pair_bits``), i <= j and d
    the distance (0 = diagonal): shifts, not divisions, take it apart. Returns how many keys were
    written; ``keys`` must hold ``ids.size * (window + 1)`` entries.
    ``unit_weights[d]`` is the weight of distance d in count units (``unit_weights[0]`` = one unit).
    """
    dense_size = dense.shape[0]
    d_bits = _d_bits(window)
    unit = np.empty(lengths.max() if lengths.size else 0, dtype=np.int64)
    n_keys = 0
    start = 0
    for length in lengths:
        n = 0
        for p in range(start, start + length):
            word = lut[ids[p]]
            if word >= 0:
                unit[n] = word
                n += 1
        start += length
        for p in range(n):
            a = unit[p]
            if a < dense_size:
                dense[a, a] += unit_weights[0]
            else:
                keys[n_keys] = ((a << id_bits) | a) << d_bits
                n_keys += 1
            for d in range(1, min(window, n - 1 - p) + 1):
                b = unit[p + d]
                i, j = (a, b) if a <= b else (b, a)
                if j < dense_size:
                    # a self-pair adds 1/d to (i, j) and to (j, i): the same cell
                    dense[i, j] += (2 if i == j else 1) * unit_weights[d]
                else:
                    keys[n_keys] = (((i << id_bits) | j) << d_bits) | d
                    n_keys += 1
    return n_keys


@numba.njit(cache=True, nogil=True)
def _reduce_keys(sorted_keys, window, id_bits, unit_weights):
    """Sorted encoded keys -> (unique pairs i << id_bits | j, summed weights in count units)."""
    d_bits = _d_bits(window)
    d_mask = (1 << d_bits) - 1
    id_mask = (1 << id_bits) - 1
    pairs = np.empty(sorted_keys.size, dtype=np.int64)
    weights = np.empty(sorted_keys.size, dtype=np.int64)
    n = -1
    last = -1
    for key in sorted_keys:
        pair = key >> d_bits
        d = key & d_mask
        w = unit_weights[d] * (2 if d > 0 and (pair >> id_bits) == (pair & id_mask) else 1)  # i == j: twice
        if pair != last:
            n += 1
            pairs[n] = pair
            weights[n] = 0
            last = pair
        weights[n] += w
    return pairs[:n + 1], weights[:n + 1]


CELL = np.dtype([("row", "<i4"), ("col", "<i4"), ("count", "<f4")])


def _id_bits(vocab_size: int) -> int:
    """Bits of a word id in an encoded pair."""
    return max(1, (vocab_size - 1).bit_length())


def _value_bits(shard_size: int) -> int:
    """Bits of a block key left for the value once the local cell index has its bits."""
    return 64 - max(1, (shard_size * shard_size - 1).bit_length())


@numba.njit(cache=True)
def _block_keys(pairs, weights, id_bits, num_shards, shard_size, value_bits):
    """Upper-triangle cells and their mirror images as block-grouped sortable keys.

    Cell (i, j) goes to block (i % N, j % N) at local (i // N, j // N); its key is
    ``(local_row * shard_size + local_col) << value_bits | value``, so sorting a block's keys orders
    its cells row-major and brings equal cells together. A value too big for its bits is split over
    several keys. Returns (keys, block starts).
    """
    limit = (np.int64(1) << value_bits) - 1
    id_mask = (1 << id_bits) - 1
    n_blocks = num_shards * num_shards
    starts = np.zeros(n_blocks + 1, dtype=np.int64)
    for k in range(pairs.size):
        i, j = pairs[k] >> id_bits, pairs[k] & id_mask
        pieces = 1 if weights[k] <= limit else 1 + (weights[k] - 1) // limit
        starts[(i % num_shards) * num_shards + j % num_shards + 1] += pieces
        if i != j:
            starts[(j % num_shards) * num_shards + i % num_shards + 1] += pieces
    for b in range(n_blocks):
        starts[b + 1] += starts[b]
    fill = starts[:-1].copy()
    keys = np.empty(starts[-1], dtype=np.uint64)
    shift = np.uint64(value_bits)
    for k in range(pairs.size):
        i, j = pairs[k] >> id_bits, pairs[k] & id_mask
        for mirror in range(2 if i != j else 1):
            a, b = (i, j) if mirror == 0 else (j, i)
            block = (a % num_shards) * num_shards + b % num_shards
            cell = np.uint64((a // num_shards) * shard_size + b // num_shards) << shift
            w = weights[k]
            while w > limit:
                keys[fill[block]] = cell | np.uint64(limit)
                fill[block] += 1
                w -= limit
            keys[fill[block]] = cell | np.uint64(w)
            fill[block] += 1
    return keys, starts


@numba.njit(cache=True)
def _sum_sorted_cells(sorted_keys, value_bits):
    """Sorted block keys -> (unique local cell indices, summed values)."""
    shift = np.uint64(value_bits)
    mask = (np.uint64(1) << shift) - np.uint64(1)
    cells = np.empty(sorted_keys.size, dtype=np.int64)
    sums = np.empty(sorted_keys.size, dtype=np.int64)
    n = -1
    for k in range(sorted_keys.size):
        cell = np.int64(sorted_keys[k] >> shift)
        if n < 0 or cell != cells[n]:
            n += 1
            cells[n] = cell
            sums[n] = 0
        sums[n] += np.int64(sorted_keys[k] & mask)
    return cells[:n + 1], sums[:n + 1]


@numba.njit(cache=True)
def _merge_sums(cells_a, sums_a, cells_b, sums_b):
    """Two sorted (cells, sums) runs -> one, summing cells found in both."""
    cells = np.empty(cells_a.size + cells_b.size, dtype=np.int64)
    sums = np.empty(cells.size, dtype=np.int64)
    p = q = n = 0
    while p < cells_a.size or q < cells_b.size:
        if q == cells_b.size or (p < cells_a.size and cells_a[p] < cells_b[q]):
            cells[n], sums[n] = cells_a[p], sums_a[p]
            p += 1
        elif p == cells_a.size or cells_b[q] < cells_a[p]:
            cells[n], sums[n] = cells_b[q], sums_b[q]
            q += 1
        else:
            cells[n], sums[n] = cells_a[p], sums_a[p] + sums_b[q]
            p += 1
            q += 1
        n += 1
    return cells[:n], sums[:n]


def _unit_weights(window: int) -> np.ndarray:
    """Weight of each distance 0..window in count units (distance 0: one occurrence)."""
    unit = count_unit(window)
    return np.array([unit] + [round(unit / d) for d in range(1, window + 1)], dtype=np.int64)


PROCESS_BYTES = 200 << 20   # one Python process with NumPy, Numba and Dask loaded, before any data


@dataclass(frozen=True)
class _Budget:
    """How one worker spends its share of the memory limit (bytes)."""

    worker_bytes: int

    @classmethod
    def share(cls, limit: int, workers: int) -> "_Budget":
        """Each worker's share of ``limit`` once this process and the workers themselves are paid for."""
        data = limit - (workers + 1) * PROCESS_BYTES
        if data < limit // 4:
            log.warning("a memory limit of %d MB leaves little room for counting data once %d processes of "
                        "about %d MB have started; counting with small buffers", limit >> 20, workers + 1,
                        PROCESS_BYTES >> 20)
        return cls(max(data, limit // 4) // workers)

    def chunk_tokens(self, window: int) -> int:
        """Tokens per counting chunk: its keys and their sorted copy take an eighth of the share."""
        return int(min(max(self.worker_bytes // 8 // ((window + 1) * 16), 256), 1 << 20))

    def spill_entries(self) -> int:
        """Pairs held before a spill: 16 bytes each, 32 while they become block keys."""
        return max(self.worker_bytes // 2 // 32, 1024)

    def dense_size(self, wanted: int) -> int:
        """Side of the dense top-word matrix: at most a quarter of the share."""
        return max(1, min(wanted, math.isqrt(self.worker_bytes // 4 // 8)))

    def merge_entries(self) -> int:
        """Block keys summed at once in pass 3 (about 48 bytes each while sorted and summed)."""
        return max(self.worker_bytes // 48, 256)

    def partition_bytes(self) -> int:
        """Corpus bytes per partition: tokenizing takes about 3.5 bytes per corpus byte."""
        return max(self.worker_bytes // 8, 1 << 16)


def _spill(prefix: str, pairs: list[np.ndarray], weights: list[np.ndarray], id_bits: int, num_shards: int,
           shard_size: int) -> str:
    """Write partial counts as block-grouped keys (``.keys``, raw uint64) and block starts (``.starts.npy``)."""
    all_pairs = np.concatenate(pairs)
    all_weights = np.concatenate(weights)
    pairs.clear()
    weights.clear()
    keys, starts = _block_keys(all_pairs, all_weights, id_bits, num_shards, shard_size, _value_bits(shard_size))
    del all_pairs, all_weights
    keys.tofile(prefix + ".keys")
    np.save(prefix + ".starts.npy", starts)
    return prefix


def _count_partition(ids_path: str, vocab_dir: str, window: int, shard_size: int,
                     dense_size: int, budget: _Budget) -> list[str]:
    """Pass 2 for one partition: its co-occurrences as spill files of block-grouped keys.

    Returns the spills' path prefixes (see ``_spill``); a new spill starts whenever the pairs held
    would outgrow the worker's share of the memory limit.
    """
    vocab = Vocabulary.load(vocab_dir)
    vocab_size, num_shards = len(vocab), len(vocab) // shard_size
    id_bits = _id_bits(vocab_size)
    with np.load(ids_path, allow_pickle=False) as saved:
        ids, lengths = saved["ids"], saved["lengths"]
        types = saved["types"].tobytes().decode("utf-8", "surrogatepass").split("\n") if saved["types"].size else []
    index = {token: i for i, token in enumerate(vocab.tokens)}
    lut = np.array([index.get(t, -1) for t in types], dtype=np.int64)
    del index, types
    unit_weights = _unit_weights(window)
    dense = np.zeros((budget.dense_size(dense_size),) * 2, dtype=np.int64)
    chunk_tokens, spill_entries = budget.chunk_tokens(window), budget.spill_entries()
    keys = np.empty(0, dtype=np.int64)
    pairs, weights, held, spills = [], [], 0, []
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    first = 0
    while first < lengths.size:
        # Chunks of whole units, about chunk_tokens tokens each (one unit may be longer).
        last = max(first + 1, int(np.searchsorted(offsets, offsets[first] + chunk_tokens, "right")) - 1)
        chunk_ids = ids[offsets[first]:offsets[last]]
        need = chunk_ids.size * (window + 1)
        if keys.size < need:
            keys = np.empty(need, dtype=np.int64)
        n = _count_pairs(chunk_ids, lengths[first:last], lut, window, id_bits, unit_weights, dense, keys)
        if n:
            keys[:n].sort()
            chunk_pairs, chunk_weights = _reduce_keys(keys[:n], window, id_bits, unit_weights)
            pairs.append(chunk_pairs.copy())  # copies: the slices would pin the kernel's full-size arrays
            weights.append(chunk_weights.copy())
            held += chunk_pairs.size
        if held > spill_entries:
            spills.append(_spill(f"{ids_path[:-4]}-{len(spills):04d}", pairs, weights, id_bits, num_shards,
                                 shard_size))
            held = 0
        first = last
    del keys, ids
    os.unlink(ids_path)
    i, j = np.nonzero(dense)  # only i <= j is ever filled
    pairs.append((i.astype(np.int64) << id_bits) | j)
    weights.append(dense[i, j])
    spills.append(_spill(f"{ids_path[:-4]}-{len(spills):04d}", pairs, weights, id_bits, num_shards, shard_size))
    return spills


def block_name(row_shard: int, col_shard: int) -> str:
    return f"{row_shard:04d}-{col_shard:04d}.npy"


def _merge_row_shard(row_shard: int, spills: list[str], num_shards: int, shard_size: int, window: int,
                     block_dir: str, budget: _Budget) -> tuple[np.ndarray, int]:
    """Pass 3 for one row shard: sum the spills' cells of each block and write the blocks.

    Reads at most ``budget.merge_entries()`` keys at a time. Returns the row sums of the shard's
    words (local order) and the number of cells written.
    """
    value_bits, unit = _value_bits(shard_size), count_unit(window)
    starts = [np.load(p + ".starts.npy") for p in spills]
    batch = budget.merge_entries()
    row_sums = np.zeros(shard_size)
    nnz = 0
    for c in range(num_shards):
        b = row_shard * num_shards + c
        cells, sums = np.zeros(0, np.int64), np.zeros(0, np.int64)
        pending, size = [], 0
        for k, prefix in enumerate(spills):
            first, last = int(starts[k][b]), int(starts[k][b + 1])
            if last > first:
                pending.append(np.fromfile(prefix + ".keys", dtype=np.uint64, count=last - first, offset=8 * first))
                size += last - first
            if pending and (size >= batch or k == len(spills) - 1):
                keys = np.concatenate(pending)
                pending, size = [], 0
                keys.sort()
                cells, sums = _merge_sums(cells, sums, *_sum_sorted_cells(keys, value_bits))
                del keys
        out = np.empty(cells.size, dtype=CELL)
        out["row"], out["col"] = cells // shard_size, cells % shard_size
        out["count"] = sums / unit
        np.save(Path(block_dir) / block_name(row_shard, c), out, allow_pickle=False)
        row_sums += np.bincount(out["row"], weights=out["count"], minlength=shard_size)
        nnz += cells.size
    return row_sums, nnz


# --------------------------------------------------------------------------- running passes

def _load_kernels() -> None:
    """Load the compiled Numba kernels (about half a second) once, before worker processes fork."""
    ChunkInterner().add(b"a b", np.array([3]))
    keys = np.empty(4, dtype=np.int64)
    weights = _unit_weights(1)
    n = _count_pairs(np.zeros(2, np.int32), np.array([2]), np.zeros(1, np.int64), 1, 1, weights,
                     np.zeros((1, 1), np.int64), keys)
    pairs, sums = _reduce_keys(np.sort(keys[:n]), 1, 1, weights)
    block_keys, _ = _block_keys(pairs, sums, 1, 1, 1, _value_bits(1))
    _merge_sums(*_sum_sorted_cells(block_keys, _value_bits(1)), np.zeros(1, np.int64), np.ones(1, np.int64))


def _process_pool(workers: int):
    """A process pool for Dask's local scheduler.

    Fork starts workers in milliseconds with Numba's kernels already loaded; it is unsafe once
    TensorFlow has started its threads in this process, so then workers are spawned instead.
    """
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and "tensorflow" not in sys.modules else "spawn"
    if method == "fork":
        _load_kernels()
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))


def _compute(tasks, *, workers: int, pool, client=None, progress: Callable[[str, int], object] | None,
             label: str):
    """Run Dask delayed tasks: on a dask.distributed ``client``, else on the local process pool
    (threads are of no use: the work holds the GIL), else in this process."""
    import dask
    from dask.callbacks import Callback

    bar = progress(label, len(tasks)) if progress else None

    class _Tick(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if bar is not None and key in keys:
                bar.update(1)

    keys = {t.key for t in tasks}
    try:
        if client is not None:
            from distributed import as_completed

            futures = client.compute(list(tasks))
            for _ in as_completed(futures):
                if bar is not None:
                    bar.update(1)
            return tuple(client.gather(futures))
        with _Tick():
            if workers <= 1:
                return dask.compute(*tasks, scheduler="synchronous")
            return dask.compute(*tasks, scheduler="processes", pool=pool, chunksize=1)
    except CordswivelError as exc:
        # Dask's process scheduler wraps a worker's exception to add the remote traceback to its
        # message; our errors are one line, so raise the original.
        raise getattr(exc, "exception", exc) from None
    finally:
        if bar is not None:
            bar.close()


def count_cooccurrences(corpus: Corpus, out_dir: str | os.PathLike, config: CooccurConfig = CooccurConfig(),
                        *, workers: int | None = None, scheduler: str | None = None,
                        memory_limit: int | str | None = None, on_error: str = "raise",
                        overwrite: bool = False, progress: Callable[[str, int], object] | None = None
                        ) -> CooccurStats:
    """Count the vocabulary and co-occurrences of ``corpus`` into shards under ``out_dir``.

    The passes run on ``workers`` local processes, or on the dask.distributed cluster whose
    scheduler listens at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``): its workers must have
    cordswivel installed, read the corpus at the same paths, and share ``out_dir``'s file system
    (partition results travel through a scratch folder inside the output being written).
    ``memory_limit`` (bytes, or a size such as ``"1GB"``; default half the RAM) bounds the memory of
    this process and the workers together; partial counts spill to that scratch folder when it fills.
    ``progress(label, total)`` may return a tqdm-like bar (``update``, ``close``) per pass.
    """
    import dask

    config.validate()
    if on_error not in ON_ERROR_CHOICES:
        raise ConfigError(f"on_error must be one of {ON_ERROR_CHOICES}, got {on_error!r}")
    started = time.perf_counter()
    client = _connect(scheduler) if scheduler else None
    if client is not None:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
    workers = workers or os.cpu_count() or 1
    limit = parse_size(memory_limit) if memory_limit is not None else default_memory_limit()
    budget = _Budget.share(limit, workers)
    partitions = corpus.partitions(2 * workers if workers > 1 else 1, max_bytes=budget.partition_bytes())
    local_pool = _process_pool(workers) if workers > 1 and client is None else contextlib.nullcontext()
    with atomic_directory(out_dir, overwrite=overwrite) as tmp, local_pool as pool, _closing(client):
        run = dict(workers=workers, pool=pool, client=client, progress=progress)
        scratch = tmp / ".tokens"
        scratch.mkdir()
        tokenize = dask.delayed(_tokenize_partition, pure=False)
        log.debug("start %.2f s", time.perf_counter() - started)
        pass1 = _compute([tokenize(p, config.lowercase, on_error, str(scratch / f"part-{k:05d}.npz"))
                          for k, p in enumerate(partitions)], label="vocabulary", **run)
        totals = collections.Counter()
        for part in pass1:
            totals.update(dict(zip(part.types, part.counts.tolist())))
        log.debug("pass 1 %.2f s", time.perf_counter() - started)
        vocab = build_vocabulary(totals, min_count=config.min_count, max_vocab=config.max_vocab,
                                 shard_size=config.shard_size)
        vocab.save(tmp)
        if 2 * _id_bits(len(vocab)) + (config.window.bit_length()) > 63:
            raise ConfigError(f"a vocabulary of {len(vocab):,} words with window {config.window} does not fit "
                              f"the 64-bit pair keys; lower --max-vocab or --window")
        num_shards = len(vocab) // config.shard_size
        count = dask.delayed(_count_partition, pure=False)
        spills = _compute([count(part.ids_path, str(tmp), config.window, config.shard_size,
                                 min(config.dense_size, len(vocab)), budget) for part in pass1],
                          label="co-occurrence", **run)
        spills = [prefix for partition in spills for prefix in partition]
        log.debug("pass 2 %.2f s", time.perf_counter() - started)
        block_dir = tmp / BLOCK_DIR
        block_dir.mkdir()
        merge = dask.delayed(_merge_row_shard, pure=False)
        merged = _compute([merge(r, spills, num_shards, config.shard_size, config.window, str(block_dir), budget)
                           for r in range(num_shards)], label="shards", **run)
        log.debug("pass 3 %.2f s", time.perf_counter() - started)
        shutil.rmtree(scratch)
        row_sums = np.zeros(len(vocab))
        for r, (shard_sums, _) in enumerate(merged):
            row_sums[r::num_shards] = shard_sums
        nnz, total = sum(n for _, n in merged), float(row_sums.sum())
        np.save(tmp / "row_sums.npy", row_sums)
        np.save(tmp / "col_sums.npy", row_sums)  # the matrix is symmetric
        skips = SkipCounts()
        for part in pass1:
            skips.update(part.skips)
        stats = CooccurStats(tokens=sum(p.tokens for p in pass1), units=sum(p.units for p in pass1),
                             types=len(totals), vocab_size=len(vocab), nnz=nnz, total=total,
                             seconds=time.perf_counter() - started, spills=len(spills), skipped=dict(skips))
        config_dict = asdict(config)
        config_dict["text_fields"] = list(config.text_fields)
        atomic_write_json(tmp / "config.json", {
            "format": FORMAT, "version": FORMAT_VERSION, "config": config_dict,
            "num_shards": num_shards, "stats": asdict(stats),
            "corpus": [str(s.path) for s in corpus.sources]})
    return stats


def _connect(address: str):
    """A dask.distributed client of the scheduler at ``address``."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("--scheduler needs the 'distributed' package (pip install distributed)") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


@contextlib.contextmanager
def _closing(client):
    try:
        yield client
    finally:
        if client is not None:
            client.close()


# --------------------------------------------------------------------------- reading shards

class CooccurrenceShards:
    """A co-occurrence directory opened for training; blocks are read from disk on demand."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        meta = read_json(self.directory / "config.json")
        if meta.get("format") != FORMAT:
            raise ModelFormatError(f"{self.directory}: not a cordswivel co-occurrence directory")
        self.meta = meta
        fields = dict(meta["config"])
        fields["text_fields"] = tuple(fields["text_fields"])
        self.config = CooccurConfig(**fields)
        self.vocab = Vocabulary.load(self.directory)
        self.num_shards = int(meta["num_shards"])
        self.shard_size = self.config.shard_size
        self.row_sums = self._load_sums("row_sums.npy")
        self.col_sums = self._load_sums("col_sums.npy")
        if len(self.vocab) != self.num_shards * self.shard_size:
            raise ModelFormatError(f"{self.directory}: vocabulary has {len(self.vocab)} words, "
                                   f"expected {self.num_shards} x {self.shard_size}")

    def _load_sums(self, name: str) -> np.ndarray:
        try:
            sums = np.load(self.directory / name, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{self.directory / name}: cannot read ({exc})") from None
        if sums.shape != (len(self.vocab),):
            raise ModelFormatError(f"{self.directory / name}: shape {sums.shape}, expected ({len(self.vocab)},)")
        return sums

    @property
    def stats(self) -> dict:
        return self.meta["stats"]

    def shard_ids(self, shard: int) -> np.ndarray:
        """Global word ids of one shard, in local order."""
        return np.arange(self.shard_size, dtype=np.int64) * self.num_shards + shard

    def block(self, row_shard: int, col_shard: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local rows, local cols, counts) of the non-zero cells of block (row_shard, col_shard)."""
        path = self.directory / BLOCK_DIR / block_name(row_shard, col_shard)
        try:
            cells = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{path}: cannot read block ({exc})") from None
        if cells.dtype != CELL or cells.ndim != 1:
            raise ModelFormatError(f"{path}: expected a 1-D array of {CELL}, got {cells.dtype} {cells.shape}")
        return cells["row"], cells["col"], cells["count"]

    def dense(self) -> np.ndarray:
        """The whole V x V matrix in global id order (for tests and small vocabularies)."""
        size = len(self.vocab)
        matrix = np.zeros((size, size), dtype=np.float64)
        for r in range(self.num_shards):
            for c in range(self.num_shards):
                rows, cols, counts = self.block(r, c)
                matrix[rows.astype(np.int64) * self.num_shards + r,
                       cols.astype(np.int64) * self.num_shards + c] = counts
        return matrix
