"""Fast whitespace splitting of UTF-8 text into interned chunk ids (the hot loop of counting pass 1).

``ChunkInterner.add(buffer, unit_ends)`` splits each unit of a UTF-8 byte buffer exactly as
``str.split()`` splits the decoded text (on runs of ``tokenizer.WHITESPACE``) and gives every
distinct chunk a dense id, in a Numba kernel with an open-addressing hash table.
The chunks are then turned into tokens once per distinct chunk by ``tokenizer.normalize_token``, so
the tokenizer keeps one definition; ``tests/test_chunks.py`` holds this splitter to ``str.split``.
"""

from __future__ import annotations

import numba
import numpy as np

from ..corpus.tokenizer import PUNCTUATION, WHITESPACE
from ..jitcache import CACHE

_ASCII_SPACE = np.zeros(128, dtype=np.bool_)
_MULTIBYTE_SPACE = []
for _char in WHITESPACE:
    if ord(_char) < 128:
        _ASCII_SPACE[ord(_char)] = True
    else:
        _MULTIBYTE_SPACE.append(_char.encode("utf-8"))
# (pattern, byte) table of the multi-byte whitespace characters, zero-padded to 4 bytes
_SPACE_PATTERNS = np.zeros((len(_MULTIBYTE_SPACE), 4), dtype=np.uint8)
_SPACE_LENGTHS = np.array([len(p) for p in _MULTIBYTE_SPACE], dtype=np.int64)
for _k, _pattern in enumerate(_MULTIBYTE_SPACE):
    _SPACE_PATTERNS[_k, : len(_pattern)] = np.frombuffer(_pattern, dtype=np.uint8)
_PUNCTUATION = np.zeros(256, dtype=np.bool_)
_PUNCTUATION[np.frombuffer(PUNCTUATION.encode("ascii"), dtype=np.uint8)] = True  # all ASCII: bytes strip as chars do
_SPACE_LEADS = np.zeros(256, dtype=np.bool_)
_SPACE_LEADS[_SPACE_PATTERNS[:, 0]] = True


@numba.njit(cache=CACHE)
def _multibyte_space_length(buf, i, end, patterns, lengths) -> int:
    """Byte length of the multi-byte whitespace character at buf[i], or 0."""
    for k in range(patterns.shape[0]):
        n = lengths[k]
        if i + n <= end:
            match = True
            for m in range(n):
                if buf[i + m] != patterns[k, m]:
                    match = False
                    break
            if match:
                return n
    return 0


@numba.njit(cache=CACHE)
def _rehash(table, size) -> np.ndarray:
    """The hash table rebuilt with ``size`` slots (a power of two)."""
    new = np.zeros((size, 3), dtype=np.uint64)
    mask = size - 1
    for s in range(table.shape[0]):
        if table[s, 2]:
            t = np.int64(table[s, 0] & np.uint64(mask))
            while new[t, 2]:
                t = (t + 1) & mask
            new[t] = table[s]
    return new


@numba.njit(cache=CACHE, nogil=True)
def _intern_chunks(
    buf,
    unit_ends,
    first_unit,
    ids_out,
    n_out,
    lengths_out,
    table,
    type_bytes,
    type_offsets,
    n_types,
    ascii_space,
    leads,
    patterns,
    space_lengths,
) -> tuple[int, int, int]:
    """Split units from ``first_unit`` on into chunks and intern them; returns (units done, ids
    written, types known).

    A table slot holds (FNV-1a hash, first 8 bytes, id + 1 | length << 32); most chunks are at most
    8 bytes long and are recognised from the slot alone, one memory access. When a new chunk does not
    fit the table (load factor 1/2) or the type arrays, the kernel stops before the unit it is in, for
    the caller to grow them and call again from there (arrays reassigned in the loop slow it down).
    """
    start = unit_ends[first_unit - 1] if first_unit > 0 else 0
    for u in range(first_unit, unit_ends.size):
        end = min(unit_ends[u], buf.size)  # the last unit has no separator after it
        unit_first_id = n_out
        i = start
        while i < end:
            b = buf[i]  # the ASCII test is written out: a call per byte is 10x slower
            if b < 128:
                if ascii_space[b]:
                    i += 1
                    continue
            elif leads[b]:
                step = _multibyte_space_length(buf, i, end, patterns, space_lengths)
                if step:
                    i += step
                    continue
            first = i
            h = np.uint64(14695981039346656037)  # FNV-1a
            prefix = np.uint64(0)
            while i < end:
                b = buf[i]
                if b < 128:
                    if ascii_space[b]:
                        break
                elif leads[b] and _multibyte_space_length(buf, i, end, patterns, space_lengths):
                    break
                h = (h ^ np.uint64(b)) * np.uint64(1099511628211)
                if i - first < 8:
                    prefix |= np.uint64(b) << np.uint64(8 * (i - first))
                i += 1
            length = i - first
            mask = table.shape[0] - 1
            slot = np.int64(h & np.uint64(mask))
            found = np.int64(-1)
            while table[slot, 2]:
                meta = table[slot, 2]
                # one branch for the three tests (short-circuit tests cost a third of the kernel's time)
                if (
                    (table[slot, 0] ^ h) | (table[slot, 1] ^ prefix) | ((meta >> np.uint64(32)) ^ np.uint64(length))
                ) == 0:
                    candidate = np.int64(meta & np.uint64(0xFFFFFFFF)) - 1
                    same = True
                    if length > 8:
                        a = type_offsets[candidate]
                        for m in range(8, length):
                            if type_bytes[a + m] != buf[first + m]:
                                same = False
                                break
                    if same:
                        found = candidate
                        break
                slot = (slot + 1) & mask
            if found < 0:
                begin = type_offsets[n_types]
                if (
                    2 * (n_types + 1) > table.shape[0]
                    or n_types + 2 > type_offsets.size
                    or begin + length > type_bytes.size
                ):
                    return u, unit_first_id, n_types
                found = n_types
                for m in range(length):
                    type_bytes[begin + m] = buf[first + m]
                type_offsets[n_types + 1] = begin + length
                table[slot, 0] = h
                table[slot, 1] = prefix
                table[slot, 2] = np.uint64(found + 1) | (np.uint64(length) << np.uint64(32))
                n_types += 1
            ids_out[n_out] = found
            n_out += 1
        lengths_out[u] = n_out - unit_first_id
        start = end
    return unit_ends.size, n_out, n_types


class ChunkInterner:
    """Interns the whitespace-separated chunks of UTF-8 buffers; ids are dense, in order of first use."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._table = np.zeros((capacity, 3), dtype=np.uint64)
        self._bytes = np.empty(1 << 20, dtype=np.uint8)
        self._offsets = np.zeros(capacity, dtype=np.int64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(self, buffer: bytes, unit_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids (int32) of all units and the number of chunks of each unit (int64)."""
        data = np.frombuffer(buffer, dtype=np.uint8)
        ends = np.asarray(unit_ends, dtype=np.int64)
        ids = np.empty(len(buffer) // 2 + 1, dtype=np.int32)
        lengths = np.empty(len(ends), dtype=np.int64)
        unit = n = 0
        while True:
            unit, n, self._n = _intern_chunks(
                data,
                ends,
                unit,
                ids,
                n,
                lengths,
                self._table,
                self._bytes,
                self._offsets,
                self._n,
                _ASCII_SPACE,
                _SPACE_LEADS,
                _SPACE_PATTERNS,
                _SPACE_LENGTHS,
            )
            if unit == len(ends):
                return ids[:n], lengths
            self._grow(int(ends[unit] - (ends[unit - 1] if unit else 0)))

    def _grow(self, unit_bytes: int) -> None:
        """Room for the types of a unit of ``unit_bytes`` bytes: whichever array is full, doubled."""
        if 2 * (self._n + 1) > self._table.shape[0]:
            self._table = _rehash(self._table, 2 * self._table.shape[0])
        if self._n + 2 > self._offsets.size:
            self._offsets = np.concatenate((self._offsets, np.zeros_like(self._offsets)))
        used = int(self._offsets[self._n])
        if used + unit_bytes > self._bytes.size:
            grown = np.empty(max(2 * self._bytes.size, used + unit_bytes), dtype=np.uint8)
            grown[:used] = self._bytes[:used]
            self._bytes = grown

    def tokens(self) -> tuple[np.ndarray, bytes]:
        """The chunks stripped of punctuation as ``tokenizer.normalize_token`` strips them, interned:
        (token id of each chunk id, -1 where nothing is left; the tokens, UTF-8, newline-separated)."""
        buffer, ends = _strip_chunks(self._bytes, self._offsets[: self._n + 1], _PUNCTUATION)
        tokens = ChunkInterner()
        ids, lengths = tokens.add(buffer.tobytes(), ends)
        mapping = np.full(self._n, -1, dtype=np.int32)
        mapping[lengths == 1] = ids
        return mapping, tokens.joined()

    def joined(self) -> bytes:
        """The chunks, newline-separated."""
        used = self._offsets[: self._n + 1]
        return np.insert(self._bytes[: used[-1]], used[1:-1], np.uint8(10)).tobytes()

    def chunks(self) -> list[str]:
        """The distinct chunks, by id."""
        data = self._bytes.tobytes()
        offsets = self._offsets[: self._n + 1].tolist()
        return [data[offsets[k] : offsets[k + 1]].decode("utf-8", "surrogatepass") for k in range(self._n)]


@numba.njit(cache=CACHE, nogil=True)
def map_chunks(chunk_ids, lengths, mapping, n_tokens) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chunk ids -> token ids by ``mapping`` (-1: the chunk is no token, dropped), in place.

    Returns (token ids, tokens per unit, count of each of the ``n_tokens`` token ids); ``lengths``
    counts chunks per unit on entry and is overwritten.
    """
    counts = np.zeros(n_tokens, dtype=np.int64)
    n = start = 0
    for u in range(lengths.size):
        kept = 0
        for p in range(start, start + lengths[u]):
            token = mapping[chunk_ids[p]]
            if token >= 0:
                chunk_ids[n] = token
                counts[token] += 1
                n += 1
                kept += 1
        start += lengths[u]
        lengths[u] = kept
    return chunk_ids[:n], lengths, counts


@numba.njit(cache=CACHE, nogil=True)
def _strip_chunks(type_bytes, offsets, strip) -> tuple[np.ndarray, np.ndarray]:
    """The chunks without the leading and trailing bytes that ``strip`` marks, each as one unit of a
    new buffer (units end one byte after their last byte; an empty unit has no chunk)."""
    buffer = np.empty(offsets[-1] + offsets.size, dtype=np.uint8)
    ends = np.empty(offsets.size - 1, dtype=np.int64)
    n = 0
    for k in range(offsets.size - 1):
        first, last = offsets[k], offsets[k + 1]
        while first < last and strip[type_bytes[first]]:
            first += 1
        while last > first and strip[type_bytes[last - 1]]:
            last -= 1
        for m in range(first, last):
            buffer[n] = type_bytes[m]
            n += 1
        buffer[n] = 10  # a newline, which the interner splits on
        n += 1
        ends[k] = n
    return buffer[:n], ends
