"""Vocabulary and co-occurrence counting: three Dask passes from a corpus to Swivel shards.

The partitions are packed into groups of similar size, one task each. Pass 1 tokenizes each group
once, counts its token types and keeps its token ids in a scratch file; the driver numbers the types
of all groups, builds the vocabulary and saves each group's token-to-word table. Pass 2 maps the ids
to vocabulary ids and counts co-occurrences (``pairkeys``): OOV tokens are dropped first (the window
stretches over them), each pair (w[p], w[p+d]), d = 1..window, inside one unit adds 1/d to both
(i, j) and (j, i), and every token occurrence adds 1 to (i, i). Partial counts are radix-sorted,
summed and merged in memory, and spill (``spills``) whenever the worker's share of the memory
budget fills. Pass 3 sums the spills of each stored block and writes it and its transpose.
Counts are summed as integers in count units, so any partitioning, spilling or scheduling gives
identical shards (format: ``shards``); so are the row sums, divided by the unit once at the end.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass

import dask
import numpy as np

from ..config import MAX_BLOCKS, CooccurConfig
from ..corpus.reader import Corpus, Partition
from ..corpus.sources import ErrorPolicy, SkipCounts
from ..corpus.tokenizer import normalize_token
from ..errors import ConfigError
from ..fileio import atomic_directory, check_output_free
from .chunks import ChunkInterner, map_chunks
from .execution import Budget, Progress, default_memory_limit, parse_size, runner
from .pairkeys import (
    PairKeys,
    block_cells,
    block_keys,
    block_starts,
    count_pairs,
    count_unit,
    dense_cells,
    dense_pairs,
    merge_in_place,
    merge_sums,
    radix_sort,
    reduce_pair_keys,
    sum_block_keys,
    transpose_block_keys,
    transpose_cells,
    unit_weights,
)
from .shards import BLOCK_DIR, CELL, CooccurStats, auto_shard_size, num_shards_of, write_metadata
from .spills import SpillFile, merge_row_shard
from .vocab import select_vocabulary

log = logging.getLogger(__name__)

# Counting tasks per worker: enough to balance uneven groups, few enough to pay each task's costs rarely.
GROUPS_PER_WORKER = 2

# --------------------------------------------------------------------------- pass 1: tokens


@dataclass
class _PartitionTokens:
    tokens_path: str  # the group's unit lengths, types (UTF-8, newline-separated) and their counts
    tokens: int
    units: int
    skips: SkipCounts


def _tokenize_partitions(
    partitions: tuple[Partition, ...], lowercase: bool, on_error: str, tokens_path: str
) -> _PartitionTokens:
    """Tokenize a group of partitions; save its unit lengths, types and type counts to ``tokens_path``
    and its token ids beside it (types as one UTF-8 blob: a few bytes a type, where a str object takes
    50; saved, not returned, so that the driver reads one group's at a time)."""
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
    np.save(_token_ids_path(tokens_path), ids)
    with open(tokens_path, "wb") as handle:
        np.savez(handle, lengths=lengths, types=np.frombuffer(types, dtype=np.uint8), counts=counts)
    return _PartitionTokens(tokens_path, int(ids.size), int(lengths.size), skips)


def _token_ids_path(tokens_path: str) -> str:
    """Where pass 1 saves a partition group's token ids: a ``.npy`` of its own, which pass 2 maps
    rather than copies."""
    return tokens_path[:-4] + ".ids.npy"


def _lut_path(tokens_path: str) -> str:
    """Where the driver saves the word id of each of a partition group's token ids (-1: not a word)."""
    return tokens_path[:-4] + ".words.npy"


def _word_ids(pass1: tuple[_PartitionTokens, ...]) -> tuple[list[str], np.ndarray]:
    """The corpus' token types and their counts; each group's type number of each of its token ids
    goes to ``_lut_path`` (interned as the tokenizer interns chunks: each group's newline-separated
    types, one unit a type)."""
    interner = ChunkInterner()
    counts = np.zeros(0, dtype=np.int64)
    for part in pass1:
        with np.load(part.tokens_path, allow_pickle=False) as saved:
            blob, group_counts = saved["types"], saved["counts"]
        ends = np.append(np.flatnonzero(blob == 10), blob.size) if group_counts.size else np.zeros(0, np.int64)
        number, _ = interner.add(blob.tobytes(), ends)
        if len(interner) > counts.size:
            counts = np.concatenate((counts, np.zeros(len(interner) - counts.size, dtype=np.int64)))
        counts[number] += group_counts  # a group's type numbers are distinct
        np.save(_lut_path(part.tokens_path), number)
    types = interner.joined().decode("utf-8", "surrogatepass").split("\n") if len(interner) else []
    return types, counts


# --------------------------------------------------------------------------- pass 2: pairs


class _SummedPairs:
    """The summed pairs counted so far, sorted by pair, which spill to ``spills`` past ``spill_pairs``.

    Each round of pair keys is sorted, summed and merged in, in place, while merging pays: once a
    round finds less than 1/8 of its pairs held already (text with little repetition, where a merge
    moves every pair held and saves no spilled pair), the pairs held spill and later rounds spill
    as they come (in rounds that take the memory of the pairs held, ``_count_partition``).
    """

    ROOM = 1 << 16  # keys converted at a time when rounds spill as they come

    def __init__(self, capacity: int, spill_pairs: int, spills: SpillFile) -> None:
        self.pairs, self.sums = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
        self.size, self.spill_pairs, self.spills, self.merging = 0, spill_pairs, spills, True

    def add(self, pairs: np.ndarray, sums: np.ndarray) -> None:
        need = self.size + pairs.size
        if need > self.pairs.size:  # grown in place (realloc): no copy beside the old arrays
            grown = max(need, self.pairs.size + self.pairs.size // 2)
            self.pairs.resize(grown, refcheck=False)
            self.sums.resize(grown, refcheck=False)
        self.size = merge_in_place(self.pairs, self.sums, self.size, pairs, sums)

    def add_keys(self, keys: np.ndarray, scratch: np.ndarray, layout: PairKeys, weights: np.ndarray) -> None:
        """Sort and sum a round of pair keys, then merge or spill them; ``keys`` and ``scratch`` are
        overwritten."""
        ordered = radix_sort(keys, scratch, layout.d_bits, layout.d_bits + layout.pair_bits)
        other = scratch if np.shares_memory(ordered, keys) else keys
        n = reduce_pair_keys(ordered, layout.shard_bits, layout.local_bits, layout.d_bits, weights, ordered, other)
        pairs, sums = ordered[:n], other[:n]
        if not self.merging:
            self.spills.write(pairs, sums, self.pairs)
            return
        held = self.size
        self.add(pairs, sums)
        if held and (held + n - self.size) * 8 < n:
            self.merging = False
        if self.size > self.spill_pairs or not self.merging:
            self.spill(keys)
        if not self.merging:  # what is left of the pairs' room converts the rounds' spills
            self.pairs.resize(min(self.pairs.size, self.ROOM), refcheck=False)
            self.sums.resize(0, refcheck=False)

    def spill(self, room: np.ndarray) -> None:
        """Spill the pairs held, converted through ``room``."""
        self.spills.write(self.pairs[: self.size], self.sums[: self.size], room)
        self.size = 0


def _count_partition(
    tokens_path: str, vocab_size: int, window: int, shard_size: int, dense_size: int, budget: Budget
) -> tuple[str, int]:
    """Pass 2 for one partition group: its co-occurrences as spills of block-grouped keys.

    Pair keys are counted into one reused buffer; each time it fills they are sorted, summed and
    merged into the summed pairs held, which spill (``spills.SpillFile``) when they outgrow the worker's
    share of the memory limit. Returns the spill file's path prefix and its number of spills; each
    spill holds a pair once.
    """
    layout = PairKeys.layout(vocab_size, window, shard_size)
    with np.load(tokens_path, allow_pickle=False) as saved:
        lengths, lut = saved["lengths"], np.load(_lut_path(tokens_path))
    ids = np.load(_token_ids_path(tokens_path), mmap_mode="c")  # read from the page cache, never copied
    weights = unit_weights(window)
    side = budget.dense_size(dense_size)
    dense, overflow = dense_cells(side)
    parts = layout.word_parts(side)
    capacity = max(min(budget.round_keys(), ids.size * (window + 1)), 1)
    keys, scratch = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
    spills = SpillFile(tokens_path[:-4], layout)
    # room for every pair the task may hold: np.empty's untouched pages cost nothing, and the pairs then
    # never grow (a realloc maps fresh pages, and may copy)
    most = min(budget.spill_pairs(), ids.size * (window + 1))
    summed = _SummedPairs(most + capacity, budget.spill_pairs(), spills)
    unit = np.empty((3, int(lengths.max()) if lengths.size else 0), dtype=np.int64)
    held = first = offset = 0
    while first < lengths.size:
        held, counted = count_pairs(
            ids[offset:], lengths[first:], lut, parts, window, weights, dense, overflow, keys, held, unit
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
        wide = min(budget.round_keys() + budget.spill_pairs(), (ids.size - offset) * (window + 1))
        if not summed.merging and keys.size < wide:  # rounds that spill as they come take the pairs' room
            del keys, scratch
            keys, scratch = (np.empty(wide, dtype=np.int64) for _ in range(2))
    del ids, parts
    for path in (tokens_path, _token_ids_path(tokens_path), _lut_path(tokens_path)):
        os.unlink(path)
    summed.add_keys(keys[:held], scratch, layout, weights)
    summed.spill(scratch)
    del summed
    pairs, sums = dense_pairs(dense, overflow, layout.num_shards, layout.shard_bits, layout.local_bits)
    del dense, overflow
    spills.write(pairs, sums, scratch)
    return spills.close()


# --------------------------------------------------------------------------- the passes together


def _load_tokenizing_kernels() -> None:
    """Load the compiled kernels of pass 1 (and of the driver's type numbering)."""
    interner = ChunkInterner()
    chunk_ids, lengths = interner.add(b"a b", np.array([3]))
    interner.tokens()
    map_chunks(chunk_ids, lengths, np.array([0, -1], dtype=np.int32), 1)


def _load_pair_kernels() -> None:
    """Load the compiled kernels of passes 2 and 3: in the workers while the driver selects the
    vocabulary, where the workers would otherwise wait (``Runner.prepare``)."""
    layout = PairKeys.layout(2, 1, 1)
    keys, scratch = np.empty(4, dtype=np.int64), np.empty(4, dtype=np.int64)
    (dense, overflow), weights, unit = dense_cells(2), unit_weights(1), np.empty((3, 2), np.int64)
    lut, parts = np.arange(2), layout.word_parts(1)
    n, _ = count_pairs(np.ones(2, np.int32), np.array([2]), lut, parts, 1, weights, dense, overflow, keys, 0, unit)
    ordered = radix_sort(keys[:n], scratch, 1, 3)
    n = reduce_pair_keys(ordered, 1, 1, 1, weights, ordered, scratch)
    pairs, sums = dense_pairs(dense, overflow, 2, 1, 1)
    block_starts(pairs, sums, 2, 1, 2, 62)
    block_keys(pairs, sums, 0, keys, 2, 62)
    transpose_block_keys(keys, 1, 1, 62, True)
    ordered = radix_sort(keys, scratch, 62, 64)
    cells, sums = sum_block_keys(ordered.view(np.uint64), 62)
    merge_sums(cells, sums, cells, sums)
    cells, sums = transpose_cells(cells, sums, 1, 2)
    out = np.empty(cells.size, dtype=CELL)
    block_cells(cells, sums, 1, 2, out["row"], out["col"], out["count"], np.zeros(2, np.int64))
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
        runner(workers=workers, scheduler=scheduler, progress=progress, preload=_load_tokenizing_kernels) as run,
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
        run.prepare(_load_pair_kernels)
        types, type_counts = _word_ids(pass1)
        pass_seconds = {"vocabulary": time.perf_counter() - started}
        vocab, word_of_type = select_vocabulary(
            types, type_counts, min_count=config.min_count, max_vocab=config.max_vocab
        )
        vocab.save(tmp)
        for part in pass1:  # type numbers -> word ids
            np.save(_lut_path(part.tokens_path), word_of_type[np.load(_lut_path(part.tokens_path))])
        del word_of_type
        shard_size = config.shard_size or auto_shard_size(len(vocab))
        config = dataclasses.replace(config, shard_size=shard_size)  # config.json records the size used
        PairKeys.layout(len(vocab), config.window, shard_size)  # fails here, not in every worker
        num_shards = num_shards_of(len(vocab), shard_size)
        if num_shards * num_shards > MAX_BLOCKS:
            raise ConfigError(
                f"--shard-size {shard_size} cuts the vocabulary of {len(vocab):,} words into {num_shards:,} "
                f"shards, {num_shards * num_shards:,} block files (at most {MAX_BLOCKS:,}); use a shard size of at "
                f"least {-(-len(vocab) // math.isqrt(MAX_BLOCKS)):,}, or auto"
            )
        count = dask.delayed(_count_partition, pure=False)
        per_partition = run.compute(
            [
                count(
                    part.tokens_path,
                    len(vocab),
                    config.window,
                    shard_size,
                    min(config.dense_size, len(vocab)),
                    budget,
                )
                for part in pass1
            ],
            label="co-occurrence",
        )
        spills = [prefix for prefix, _ in per_partition]
        pass_seconds["co-occurrence"] = time.perf_counter() - started - sum(pass_seconds.values())
        block_dir = tmp / BLOCK_DIR
        block_dir.mkdir()
        merge = dask.delayed(merge_row_shard, pure=False)
        merged = run.compute(
            [
                merge(r, spills, len(vocab), config.window, shard_size, str(block_dir), budget)
                for r in range(num_shards)
            ],
            label="shards",
        )
        pass_seconds["shards"] = time.perf_counter() - started - sum(pass_seconds.values())
        unit_sums = np.zeros((num_shards, shard_size), dtype=np.int64)  # by shard, in count units
        for r, (path, _) in enumerate(merged):
            unit_sums[r:] += np.load(path)
        shutil.rmtree(scratch)
        # word id = local * num_shards + shard; the ids past the vocabulary are padding, always 0
        row_sums = unit_sums.T.ravel()[: len(vocab)] / count_unit(config.window)
        np.save(tmp / "row_sums.npy", row_sums)
        np.save(tmp / "col_sums.npy", row_sums)  # the matrix is symmetric
        skips = SkipCounts(corpus.skipped)
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
            spills=sum(n for _, n in per_partition),
            skipped={str(k): n for k, n in skips.items()},
            pass_seconds={k: round(v, 3) for k, v in pass_seconds.items()},
        )
        write_metadata(tmp, config, num_shards, stats, [s.path for s in corpus.sources])
    return stats
