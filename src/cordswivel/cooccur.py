"""Vocabulary and co-occurrence counting: three Dask passes from a corpus to Swivel shards.

The partitions are packed into groups of similar size, one task each. Pass 1 tokenizes each group
once, counts its token types and keeps its token ids in a scratch file; the driver numbers the types
of all groups, builds the vocabulary and saves each group's token-to-word table. Pass 2 maps the ids
to vocabulary ids and counts co-occurrences (``pairkeys``): OOV tokens are dropped first (the window
stretches over them), each pair (w[p], w[p+d]), d = 1..window, inside one unit adds 1/d to both
(i, j) and (j, i), and every token occurrence adds 1 to (i, i). Partial counts are radix-sorted,
summed and merged in memory, and spill to scratch files (each pair once a spill) whenever the
worker's share of the memory budget fills. Pass 3 sums the spills of each row shard into its
blocks. Counts are summed as integers in count units, so any partitioning, spilling or scheduling
gives identical shards (format: ``shards``).
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

from .chunks import ChunkInterner, map_chunks
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
    merge_in_place,
    merge_sums,
    radix_sort,
    reduce_pair_keys,
    sum_block_keys,
    unit_weights,
)
from .shards import BLOCK_DIR, CELL, CooccurStats, block_name, write_metadata
from .sources import ErrorPolicy, SkipCounts
from .tokenizer import normalize_token
from .vocab import select_vocabulary

log = logging.getLogger(__name__)

# Counting tasks per worker: enough to balance uneven groups, few enough to pay each task's costs rarely.
GROUPS_PER_WORKER = 2

# --------------------------------------------------------------------------- pass 1: tokens


@dataclass
class _PartitionTokens:
    types: bytes  # the group's token types, UTF-8, newline-separated (tokens hold no whitespace)
    counts: np.ndarray  # (types,) int64
    ids_path: str
    tokens: int
    units: int
    skips: SkipCounts


def _tokenize_partitions(
    partitions: tuple[Partition, ...], lowercase: bool, on_error: str, ids_path: str
) -> _PartitionTokens:
    """Tokenize a group of partitions; save its token ids and unit lengths to ``ids_path``."""
    skips = SkipCounts()
    interner = ChunkInterner()
    id_parts, length_parts = [], []
    for partition in partitions:
        for buffer, unit_ends in partition.unit_batches(on_error, skips):
            chunk_ids, lengths = interner.add(buffer, unit_ends)
            id_parts.append(chunk_ids)
            length_parts.append(lengths)
    if lowercase:  # Unicode lowercasing: each distinct chunk once, by the tokenizer's own normalize_token
        local: collections.defaultdict[str, int] = collections.defaultdict()
        local.default_factory = local.__len__
        mapping = np.fromiter(
            (local[t] if t else -1 for t in (normalize_token(w, lowercase) for w in interner.chunks())),
            dtype=np.int32,
            count=len(interner),
        )
        n_types, types = len(local), "\n".join(local).encode("utf-8", "surrogatepass")
    else:
        mapping, types = interner.tokens()
        n_types = int(mapping.max()) + 1 if mapping.size else 0
    chunk_ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int32)
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, np.int64)
    del id_parts, length_parts
    ids, lengths, counts = map_chunks(chunk_ids, lengths, mapping, n_types)
    with open(ids_path, "wb") as handle:
        np.savez(handle, ids=ids, lengths=lengths)
    # types travel as one UTF-8 blob: a few bytes a type, where a str object takes 50
    return _PartitionTokens(types, counts, ids_path, int(ids.size), int(lengths.size), skips)


def _lut_path(ids_path: str) -> str:
    """Where the driver saves the word id of each of a partition group's token ids (-1: not a word)."""
    return ids_path[:-4] + ".words.npy"


def _word_ids(pass1: tuple[_PartitionTokens, ...]) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    """The corpus' token types, their counts, and for each group the type number of each of its token
    ids (interned as the tokenizer interns chunks: each group's newline-separated types, one unit a
    type; the groups' type lists are emptied)."""
    interner = ChunkInterner()
    numbers = []
    for part in pass1:
        blob = np.frombuffer(part.types, dtype=np.uint8)
        ends = np.append(np.flatnonzero(blob == 10), blob.size) if part.counts.size else np.zeros(0, np.int64)
        number, _ = interner.add(part.types, ends)
        numbers.append(number.astype(np.int64))
        part.types = b""
    types = interner.joined().decode("utf-8", "surrogatepass").split("\n") if len(interner) else []
    counts = np.zeros(len(types), dtype=np.int64)
    for part, number in zip(pass1, numbers, strict=True):
        counts[number] += part.counts  # a group's type numbers are distinct
    return types, counts, numbers


# --------------------------------------------------------------------------- pass 2: pairs


class _SummedPairs:
    """The summed pairs counted so far, sorted by pair; sorted runs merge in, in place."""

    def __init__(self, capacity: int) -> None:
        self.pairs, self.sums = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
        self.size = 0

    def add(self, pairs: np.ndarray, sums: np.ndarray) -> None:
        need = self.size + pairs.size
        if need > self.pairs.size:  # grown in place (realloc): no copy beside the old arrays
            grown = max(need, self.pairs.size + self.pairs.size // 2)
            self.pairs.resize(grown, refcheck=False)
            self.sums.resize(grown, refcheck=False)
        self.size = merge_in_place(self.pairs, self.sums, self.size, pairs, sums)

    def add_keys(self, keys: np.ndarray, scratch: np.ndarray, layout: PairKeys, weights: np.ndarray) -> None:
        """Sort and sum pair keys, then merge them in; ``keys`` and ``scratch`` are overwritten."""
        ordered = radix_sort(keys, scratch, layout.d_bits, layout.d_bits + 2 * layout.id_bits)
        other = scratch if np.shares_memory(ordered, keys) else keys
        n = reduce_pair_keys(ordered, layout.id_bits, layout.d_bits, weights, ordered, other)
        self.add(ordered[:n], other[:n])

    def spill(self, prefix: str, layout: PairKeys, num_shards: int, shard_size: int, dense: np.ndarray) -> str:
        """Write the pairs and the cells of ``dense`` as block-grouped keys (``.keys``, raw uint64) with
        the block starts (``.starts.npy``), and hold none."""
        pairs, sums = self.pairs[: self.size], self.sums[: self.size]
        value_bits = block_value_bits(shard_size)
        packed, starts = block_keys(pairs, sums, dense, layout.id_bits, num_shards, shard_size, value_bits)
        packed.tofile(prefix + ".keys")
        np.save(prefix + ".starts.npy", starts)
        self.size = 0
        return prefix


def _count_partition(
    ids_path: str, vocab_size: int, window: int, shard_size: int, dense_size: int, budget: Budget
) -> list[str]:
    """Pass 2 for one partition group: its co-occurrences as spill files of block-grouped keys.

    Pair keys are counted into one reused buffer; each time it fills they are sorted, summed and
    merged into the summed pairs held, which spill (``_SummedPairs.spill``) when they outgrow the
    worker's share of the memory limit. Returns the spills' path prefixes; each holds a pair once.
    """
    num_shards = vocab_size // shard_size
    layout = PairKeys.layout(vocab_size, window)
    with np.load(ids_path, allow_pickle=False) as saved:
        ids, lengths, lut = saved["ids"], saved["lengths"], np.load(_lut_path(ids_path))
    weights = unit_weights(window)
    dense = np.zeros((budget.dense_size(dense_size),) * 2, dtype=np.int64)
    capacity = max(min(budget.round_keys(), ids.size * (window + 1)), 1)
    keys, scratch = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
    summed, spill_pairs = _SummedPairs(min(capacity, budget.spill_pairs())), budget.spill_pairs()
    spills: list[str] = []
    unit = np.empty(int(lengths.max()) if lengths.size else 0, dtype=np.int64)
    held = first = offset = 0
    while first < lengths.size:
        held, counted = count_pairs(
            ids[offset:], lengths[first:], lut, window, layout.id_bits, layout.d_bits, weights, dense, keys, held, unit
        )
        offset += int(lengths[first : first + counted].sum())
        first += counted
        if first == lengths.size:
            break
        if held == 0:  # one unit may need more keys than the buffer holds
            del keys, scratch
            keys, scratch = (np.empty(int(lengths[first]) * (window + 1), dtype=np.int64) for _ in range(2))
            continue
        summed.add_keys(keys[:held], scratch, layout, weights)
        held = 0
        if summed.size > spill_pairs:
            prefix = f"{ids_path[:-4]}-{len(spills):04d}"
            spills.append(summed.spill(prefix, layout, num_shards, shard_size, np.zeros((0, 0), np.int64)))
    del ids
    os.unlink(ids_path)
    os.unlink(_lut_path(ids_path))
    summed.add_keys(keys[:held], scratch, layout, weights)
    del keys, scratch
    spills.append(summed.spill(f"{ids_path[:-4]}-{len(spills):04d}", layout, num_shards, shard_size, dense))
    return spills


# --------------------------------------------------------------------------- pass 3: blocks


class _SpillFiles:
    """Reads ranges of the spills' ``.keys`` files into arrays, keeping up to ``OPEN`` of them open."""

    OPEN = 256

    def __init__(self, spills: list[str]) -> None:
        self.paths = [p + ".keys" for p in spills]
        self.fds: collections.OrderedDict[int, int] = collections.OrderedDict()

    def read_into(self, k: int, first: int, out: np.ndarray) -> None:
        """Keys ``first`` to ``first + out.size`` of spill ``k`` into ``out`` (uint64)."""
        fd = self.fds.pop(k, None)
        if fd is None:
            if len(self.fds) >= self.OPEN:
                os.close(self.fds.popitem(last=False)[1])
            fd = os.open(self.paths[k], os.O_RDONLY)
        self.fds[k] = fd
        view, done = out.data.cast("B"), 0
        while done < view.nbytes:
            read = os.preadv(fd, [view[done:]], 8 * first + done)
            if read <= 0:
                raise OSError(f"{self.paths[k]}: truncated spill file")
            done += read

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def _merge_row_shard(
    row_shard: int, spills: list[str], num_shards: int, shard_size: int, window: int, block_dir: str, budget: Budget
) -> tuple[np.ndarray, int]:
    """Pass 3 for one row shard: sum the spills' cells of each block and write the blocks.

    Reads at most ``budget.merge_entries()`` keys at a time (each spill file opened once). Returns the
    row sums of the shard's words (local order) and the number of cells written.
    """
    value_bits, unit = block_value_bits(shard_size), count_unit(window)
    starts = np.array([np.load(p + ".starts.npy")[row_shard * num_shards :][: num_shards + 1] for p in spills])
    batch = budget.merge_entries()
    row_sums = np.zeros(shard_size)
    nnz = 0
    files = _SpillFiles(spills)
    try:
        for c in range(num_shards):
            sizes = starts[:, c + 1] - starts[:, c]
            cells, sums = np.zeros(0, np.int64), np.zeros(0, np.int64)
            k = 0
            while k < len(spills):
                # the next spills whose keys of this block fit one batch (at least one spill)
                last = k + max(1, int(np.searchsorted(np.cumsum(sizes[k:]), batch, "right")))
                keys = np.empty(int(sizes[k:last].sum()), dtype=np.uint64)
                filled = 0
                for spill in range(k, last):
                    if sizes[spill]:
                        files.read_into(spill, int(starts[spill, c]), keys[filled : filled + sizes[spill]])
                        filled += int(sizes[spill])
                ordered = radix_sort(keys.view(np.int64), np.empty(keys.size, np.int64), value_bits, 64)
                cells, sums = merge_sums(cells, sums, *sum_block_keys(ordered.view(np.uint64), value_bits))
                del keys, ordered
                k = last
            out = np.empty(cells.size, dtype=CELL)
            out["row"], out["col"] = cells // shard_size, cells % shard_size
            out["count"] = sums / unit
            np.save(Path(block_dir) / block_name(row_shard, c), out, allow_pickle=False)
            row_sums += np.bincount(out["row"], weights=out["count"], minlength=shard_size)
            nnz += cells.size
    finally:
        files.close()
    return row_sums, nnz


# --------------------------------------------------------------------------- the passes together


def load_kernels() -> None:
    """Load the compiled counting kernels (about half a second), e.g. before worker processes fork."""
    interner = ChunkInterner()
    chunk_ids, lengths = interner.add(b"a b", np.array([3]))
    interner.tokens()
    map_chunks(chunk_ids, lengths, np.array([0, -1], dtype=np.int32), 1)
    keys, scratch = np.empty(4, dtype=np.int64), np.empty(4, dtype=np.int64)
    weights = unit_weights(1)
    dense = np.zeros((1, 1), np.int64)
    unit = np.empty(2, np.int64)
    n, _ = count_pairs(np.ones(2, np.int32), np.array([2]), np.arange(2), 1, 1, 1, weights, dense, keys, 0, unit)
    ordered = radix_sort(keys[:n], scratch, 1, 3)
    n = reduce_pair_keys(ordered, 1, 1, weights, ordered, scratch)
    packed, _ = block_keys(ordered[:n], scratch[:n], dense, 1, 1, 1, block_value_bits(1))
    ordered = radix_sort(packed.view(np.int64), np.empty(packed.size, np.int64), block_value_bits(1), 64)
    cells, sums = sum_block_keys(ordered.view(np.uint64), block_value_bits(1))
    merge_sums(cells, sums, cells, sums)
    merge_in_place(np.concatenate((cells, cells)), np.concatenate((sums, sums)), cells.size, cells, sums)


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
    with (  # the workers stop before the temporary output is removed
        atomic_directory(out_dir, overwrite=overwrite) as tmp,
        runner(workers=workers, scheduler=scheduler, progress=progress, preload=load_kernels) as run,
    ):
        budget = Budget.share(limit, run.workers)
        groups = corpus.partition_groups(
            GROUPS_PER_WORKER * run.workers if run.workers > 1 else 1, budget.partition_bytes()
        )
        scratch = tmp / ".tokens"
        scratch.mkdir()
        tokenize = dask.delayed(_tokenize_partitions, pure=False)
        pass1 = run.compute(
            [
                tokenize(group, config.lowercase, on_error, str(scratch / f"part-{k:05d}.npz"))
                for k, group in enumerate(groups)
            ],
            label="vocabulary",
        )
        types, type_counts, numbers = _word_ids(pass1)
        pass_seconds = {"vocabulary": time.perf_counter() - started}
        vocab, word_of_type = select_vocabulary(
            types, type_counts, min_count=config.min_count, max_vocab=config.max_vocab, shard_size=config.shard_size
        )
        vocab.save(tmp)
        for part, number in zip(pass1, numbers, strict=True):
            np.save(_lut_path(part.ids_path), word_of_type[number])
        del numbers, word_of_type
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
                    len(vocab),
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
        pass_seconds["co-occurrence"] = time.perf_counter() - started - sum(pass_seconds.values())
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
        pass_seconds["shards"] = time.perf_counter() - started - sum(pass_seconds.values())
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
            types=len(types),
            vocab_size=len(vocab),
            nnz=sum(n for _, n in merged),
            total=float(row_sums.sum()),
            seconds=time.perf_counter() - started,
            spills=len(spills),
            skipped={str(k): n for k, n in skips.items()},
            pass_seconds={k: round(v, 3) for k, v in pass_seconds.items()},
        )
        write_metadata(tmp, config, num_shards, stats, [s.path for s in corpus.sources])
    return stats
