"""Vocabulary and co-occurrence counting: three Dask passes from a corpus to Swivel shards.

Pass 1 tokenizes each partition once, counts its token types and keeps its token ids in a scratch
file. Pass 2 maps those ids to vocabulary ids and counts co-occurrences (``pairkeys``): OOV tokens
are dropped first (the window stretches over them), each pair (w[p], w[p+d]), d = 1..window, inside
one unit adds 1/d to both (i, j) and (j, i), and every token occurrence adds 1 to (i, i). Partial
counts spill to scratch files whenever the worker's share of the memory budget fills. Pass 3 sums
the spills of each row shard into its blocks. Counts are summed as integers in count units, so any
partitioning, spilling or scheduling gives identical shards (format: ``shards``).
"""

from __future__ import annotations

import collections
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np

from .chunks import ChunkInterner
from .config import MAX_BLOCKS, CooccurConfig
from .corpus import Corpus, Partition
from .errors import ConfigError
from .execution import Budget, Progress, default_memory_limit, parse_size, runner
from .fileio import atomic_directory, check_output_free
from .pairkeys import (
    PairKeys,
    block_keys,
    block_value_bits,
    count_pairs,
    count_unit,
    merge_sums,
    reduce_pair_keys,
    sum_block_keys,
    unit_weights,
)
from .shards import BLOCK_DIR, CELL, CooccurStats, block_name, write_metadata
from .sources import ErrorPolicy, SkipCounts
from .tokenizer import normalize_token
from .vocab import Vocabulary, build_vocabulary

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- pass 1: tokens


@dataclass
class _PartitionTokens:
    types: list[str]
    counts: np.ndarray  # (types,) int64
    ids_path: str
    tokens: int
    units: int
    skips: SkipCounts


def _tokenize_partition(partition: Partition, lowercase: bool, on_error: str, ids_path: str) -> _PartitionTokens:
    """Tokenize one partition; save its token ids and unit lengths to ``ids_path``."""
    skips = SkipCounts()
    interner = ChunkInterner()
    id_parts, length_parts = [], []
    for buffer, unit_ends in partition.unit_batches(on_error, skips):
        chunk_ids, lengths = interner.add(buffer, unit_ends)
        id_parts.append(chunk_ids)
        length_parts.append(lengths)
    # Normalize each distinct chunk once, with the tokenizer's own normalize_token.
    local: collections.defaultdict[str, int] = collections.defaultdict()
    local.default_factory = local.__len__
    mapping = np.fromiter(
        (local[t] if t else -1 for t in (normalize_token(w, lowercase) for w in interner.chunks())),
        dtype=np.int32,
        count=len(interner),
    )
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
        np.savez(
            handle,
            ids=ids,
            lengths=lengths,
            types=np.frombuffer("\n".join(types).encode("utf-8", "surrogatepass"), dtype=np.uint8),
        )
    return _PartitionTokens(types, counts, ids_path, int(ids.size), int(lengths.size), skips)


# --------------------------------------------------------------------------- pass 2: pairs


def _spill(
    prefix: str, pairs: list[np.ndarray], sums: list[np.ndarray], keys: PairKeys, num_shards: int, shard_size: int
) -> str:
    """Write partial counts as block-grouped keys (``.keys``, raw uint64) and block starts (``.starts.npy``)."""
    all_pairs = np.concatenate(pairs)
    all_sums = np.concatenate(sums)
    pairs.clear()
    sums.clear()
    packed, starts = block_keys(all_pairs, all_sums, keys.id_bits, num_shards, shard_size, block_value_bits(shard_size))
    del all_pairs, all_sums
    packed.tofile(prefix + ".keys")
    np.save(prefix + ".starts.npy", starts)
    return prefix


def _count_partition(
    ids_path: str, vocab_dir: str, window: int, shard_size: int, dense_size: int, budget: Budget
) -> list[str]:
    """Pass 2 for one partition: its co-occurrences as spill files of block-grouped keys.

    Returns the spills' path prefixes (see ``_spill``); a new spill starts whenever the pairs held
    would outgrow the worker's share of the memory limit.
    """
    vocab = Vocabulary.load(vocab_dir)
    num_shards = len(vocab) // shard_size
    layout = PairKeys.layout(len(vocab), window)
    with np.load(ids_path, allow_pickle=False) as saved:
        ids, lengths = saved["ids"], saved["lengths"]
        types = saved["types"].tobytes().decode("utf-8", "surrogatepass").split("\n") if saved["types"].size else []
    lut = np.array([vocab.get(t) for t in types], dtype=np.int64)
    del types
    weights = unit_weights(window)
    dense = np.zeros((budget.dense_size(dense_size),) * 2, dtype=np.int64)
    chunk_tokens, spill_entries = budget.chunk_tokens(window), budget.spill_entries()
    keys = np.empty(0, dtype=np.int64)
    pairs: list[np.ndarray] = []
    sums: list[np.ndarray] = []
    spills: list[str] = []
    held = 0
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    first = 0
    while first < lengths.size:
        # Chunks of whole units, about chunk_tokens tokens each (one unit may be longer).
        last = max(first + 1, int(np.searchsorted(offsets, offsets[first] + chunk_tokens, "right")) - 1)
        chunk_ids = ids[offsets[first] : offsets[last]]
        need = chunk_ids.size * (window + 1)
        if keys.size < need:
            keys = np.empty(need, dtype=np.int64)
        n = count_pairs(
            chunk_ids, lengths[first:last], lut, window, layout.id_bits, layout.d_bits, weights, dense, keys
        )
        if n:
            keys[:n].sort()
            chunk_pairs, chunk_sums = reduce_pair_keys(keys[:n], layout.id_bits, layout.d_bits, weights)
            pairs.append(chunk_pairs.copy())  # copies: the slices would pin the kernel's full-size arrays
            sums.append(chunk_sums.copy())
            held += chunk_pairs.size
        if held > spill_entries:
            spills.append(_spill(f"{ids_path[:-4]}-{len(spills):04d}", pairs, sums, layout, num_shards, shard_size))
            held = 0
        first = last
    del keys, ids
    os.unlink(ids_path)
    i, j = np.nonzero(dense)  # only i <= j is ever filled
    pairs.append((i.astype(np.int64) << layout.id_bits) | j)
    sums.append(dense[i, j])
    spills.append(_spill(f"{ids_path[:-4]}-{len(spills):04d}", pairs, sums, layout, num_shards, shard_size))
    return spills


# --------------------------------------------------------------------------- pass 3: blocks


def _merge_row_shard(
    row_shard: int, spills: list[str], num_shards: int, shard_size: int, window: int, block_dir: str, budget: Budget
) -> tuple[np.ndarray, int]:
    """Pass 3 for one row shard: sum the spills' cells of each block and write the blocks.

    Reads at most ``budget.merge_entries()`` keys at a time. Returns the row sums of the shard's
    words (local order) and the number of cells written.
    """
    value_bits, unit = block_value_bits(shard_size), count_unit(window)
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
                cells, sums = merge_sums(cells, sums, *sum_block_keys(keys, value_bits))
                del keys
        out = np.empty(cells.size, dtype=CELL)
        out["row"], out["col"] = cells // shard_size, cells % shard_size
        out["count"] = sums / unit
        np.save(Path(block_dir) / block_name(row_shard, c), out, allow_pickle=False)
        row_sums += np.bincount(out["row"], weights=out["count"], minlength=shard_size)
        nnz += cells.size
    return row_sums, nnz


# --------------------------------------------------------------------------- the passes together


def load_kernels() -> None:
    """Load the compiled counting kernels (about half a second), e.g. before worker processes fork."""
    ChunkInterner().add(b"a b", np.array([3]))
    keys = np.empty(4, dtype=np.int64)
    weights = unit_weights(1)
    n = count_pairs(
        np.zeros(2, np.int32), np.array([2]), np.zeros(1, np.int64), 1, 1, 1, weights, np.zeros((1, 1), np.int64), keys
    )
    pairs, sums = reduce_pair_keys(np.sort(keys[:n]), 1, 1, weights)
    packed, _ = block_keys(pairs, sums, 1, 1, 1, block_value_bits(1))
    merge_sums(*sum_block_keys(packed, block_value_bits(1)), np.zeros(1, np.int64), np.ones(1, np.int64))


def count_cooccurrences(
    corpus: Corpus,
    out_dir: str | os.PathLike,
    config: CooccurConfig = CooccurConfig(),
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    memory_limit: int | str | None = None,
    on_error: str = "raise",
    overwrite: bool = False,
    progress: Progress | None = None,
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
    config.validate()
    ErrorPolicy(on_error)  # a bad choice fails here, before any work
    check_output_free(out_dir, overwrite)
    started = time.perf_counter()
    limit = parse_size(memory_limit) if memory_limit is not None else default_memory_limit()
    with (
        runner(workers=workers, scheduler=scheduler, progress=progress, preload=load_kernels) as run,
        atomic_directory(out_dir, overwrite=overwrite) as tmp,
    ):
        budget = Budget.share(limit, run.workers)
        partitions = corpus.partitions(2 * run.workers if run.workers > 1 else 1, max_bytes=budget.partition_bytes())
        scratch = tmp / ".tokens"
        scratch.mkdir()
        tokenize = dask.delayed(_tokenize_partition, pure=False)
        pass1 = run.compute(
            [
                tokenize(p, config.lowercase, on_error, str(scratch / f"part-{k:05d}.npz"))
                for k, p in enumerate(partitions)
            ],
            label="vocabulary",
        )
        totals: collections.Counter[str] = collections.Counter()
        for part in pass1:
            totals.update(dict(zip(part.types, part.counts.tolist(), strict=True)))
        log.debug("pass 1 %.2f s", time.perf_counter() - started)
        vocab = build_vocabulary(
            totals, min_count=config.min_count, max_vocab=config.max_vocab, shard_size=config.shard_size
        )
        vocab.save(tmp)
        PairKeys.layout(len(vocab), config.window)  # fails here, not in every worker
        num_shards = len(vocab) // config.shard_size
        if num_shards * num_shards > MAX_BLOCKS:
            raise ConfigError(
                f"--shard-size {config.shard_size} cuts the vocabulary of {len(vocab):,} words into {num_shards:,} "
                f"shards, {num_shards * num_shards:,} block files (at most {MAX_BLOCKS:,}); use a shard size of at "
                f"least {-(-len(vocab) // math.isqrt(MAX_BLOCKS)):,}"
            )
        count = dask.delayed(_count_partition, pure=False)
        per_partition = run.compute(
            [
                count(
                    part.ids_path,
                    str(tmp),
                    config.window,
                    config.shard_size,
                    min(config.dense_size, len(vocab)),
                    budget,
                )
                for part in pass1
            ],
            label="co-occurrence",
        )
        spills = [prefix for partition in per_partition for prefix in partition]
        log.debug("pass 2 %.2f s", time.perf_counter() - started)
        block_dir = tmp / BLOCK_DIR
        block_dir.mkdir()
        merge = dask.delayed(_merge_row_shard, pure=False)
        merged = run.compute(
            [
                merge(r, spills, num_shards, config.shard_size, config.window, str(block_dir), budget)
                for r in range(num_shards)
            ],
            label="shards",
        )
        log.debug("pass 3 %.2f s", time.perf_counter() - started)
        shutil.rmtree(scratch)
        row_sums = np.zeros(len(vocab))
        for r, (shard_sums, _) in enumerate(merged):
            row_sums[r::num_shards] = shard_sums
        np.save(tmp / "row_sums.npy", row_sums)
        np.save(tmp / "col_sums.npy", row_sums)  # the matrix is symmetric
        skips = SkipCounts()
        for part in pass1:
            skips.update(part.skips)
        stats = CooccurStats(
            tokens=sum(p.tokens for p in pass1),
            units=sum(p.units for p in pass1),
            types=len(totals),
            vocab_size=len(vocab),
            nnz=sum(n for _, n in merged),
            total=float(row_sums.sum()),
            seconds=time.perf_counter() - started,
            spills=len(spills),
            skipped={str(k): n for k, n in skips.items()},
        )
        write_metadata(tmp, config, num_shards, stats, [s.path for s in corpus.sources])
    return stats
