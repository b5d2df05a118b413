"""Where training runs: the ``tf.distribute`` strategy over the chosen devices, and whether the
training tables fit in this machine's memory at all (checked before anything is allocated).

TensorFlow is imported inside the functions, as in ``swivel``.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError


def _device_key(name: str) -> tuple[str, int] | None:
    import tensorflow as tf

    try:
        spec = tf.DeviceSpec.from_string(name)
    except ValueError:
        return None
    return (spec.device_type or "").upper(), spec.device_index or 0


def _training_devices(devices: list[str] | None) -> list[str]:
    """``devices``, or by default the visible GPUs (none: training runs on the default device, the CPU)."""
    import tensorflow as tf

    return [d.name for d in tf.config.list_logical_devices("GPU")] if devices is None else devices


def distribution_strategy(devices: list[str] | None = None) -> Any:
    """MirroredStrategy over ``devices`` (default: the visible GPUs) when there are several; else one device."""
    import tensorflow as tf

    devices = _training_devices(devices)
    available = {_device_key(d.name): d.name for d in tf.config.list_logical_devices()}
    unknown = [d for d in devices if _device_key(d) not in available]
    if unknown:
        raise ConfigError(f"unknown device {unknown[0]!r}; this machine has {', '.join(available.values())}")
    if len(devices) > 1:
        return tf.distribute.MirroredStrategy(devices)
    if len(devices) == 1:
        return tf.distribute.OneDeviceStrategy(devices[0])
    return tf.distribute.get_strategy()


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux reports them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def matmul_precision(requested: str, devices: list[str] | None = None) -> str:
    """The matmul operand type training uses: ``requested``, or for "auto" bfloat16 where every
    training device computes it natively (GPUs of compute capability 8.0 on, CPUs with AVX512_BF16 or
    AMX), float32 elsewhere (emulated bfloat16 is slower than float32). Measured on the demo: the
    same loss, word similarity and SciCite scores either way (benchmarks/README.md)."""
    import tensorflow as tf

    if requested != "auto":
        return requested
    gpus = tf.config.list_physical_devices("GPU")
    cpu_native = bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})

    def native(key: tuple[str, int] | None) -> bool:
        if key is not None and key[0] == "GPU" and key[1] < len(gpus):
            capability = tf.config.experimental.get_device_details(gpus[key[1]]).get("compute_capability")
            return capability is not None and tuple(capability) >= (8, 0)
        return cpu_native

    keys = [_device_key(d) for d in _training_devices(devices)] or [("CPU", 0)]
    return "bfloat16" if all(native(key) for key in keys) else "float32"


def training_bytes(vocab_size: int, dim: int, shard_size: int, *, has_slots: bool = True) -> int:
    """Memory training needs, roughly: float32 row and column vectors (and their optimiser slots),
    with their initial copies and checkpoint, plus a few s x s blocks in flight."""
    tables = (4 if has_slots else 2) * vocab_size * dim * 4
    return 2 * tables + 6 * shard_size * shard_size * 4


def check_memory(vocab_size: int, dim: int, shard_size: int, *, has_slots: bool = True) -> None:
    """A ``ConfigError`` before anything is allocated when training could not fit in this machine's RAM."""
    need = training_bytes(vocab_size, dim, shard_size, has_slots=has_slots)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: let the allocation decide
        return
    if need > total:
        raise ConfigError(
            f"training {vocab_size:,} words x {dim} dimensions needs about {need / 2**30:,.1f} GiB, more than this "
            f"machine's {total / 2**30:,.1f} GiB of memory; use a smaller --dim, --max-vocab or --shard-size"
        )
