"""The stopping rule on loss curves shaped like Swivel's, at several numbers of blocks per row."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.config import SwivelConfig
from cordswivel.training.stopping import max_epochs, stop_reason


def swivel_like_curve(row_updates):
    """Swivel's loss against row updates, in shape: flat for about 150, a fast fall, then flat."""
    return 10.0 + 10.0 / (1.0 + np.exp((row_updates - 250.0) / 30.0))


def first_stop(losses, config, blocks_per_row):
    for epoch in range(1, len(losses) + 1):
        reason = stop_reason(losses[:epoch], config, blocks_per_row)
        if reason:
            return epoch, reason
    return None, None


@pytest.mark.parametrize("blocks_per_row", [4, 17, 28, 64])
def test_stop_rule_waits_out_the_slow_start_and_stops_once_flat(blocks_per_row):
    config = SwivelConfig(tolerance=0.02, min_row_updates=200, row_updates=5000)
    losses = [float(swivel_like_curve(k * blocks_per_row)) for k in range(1, 5000 // blocks_per_row)]
    epoch, reason = first_stop(losses, config, blocks_per_row)
    # the fall is over (within 1% of the floor), at the same row updates whatever the shard size
    assert losses[epoch - 1] < 10.01 and 440 <= epoch * blocks_per_row <= 560, (epoch, reason)
    assert reason.startswith(f"converged: epochs {epoch - -(-100 // blocks_per_row) + 1}-{epoch} (")
    assert "lowered the loss by" in reason and "per 100 row updates, less than the tolerance 2.00%" in reason
    # without the minimum, the flat start (under 1% per 100 row updates) would stop it where a window fits
    early, _ = first_stop(losses, SwivelConfig(tolerance=0.02, min_row_updates=1, row_updates=5000), blocks_per_row)
    assert early * blocks_per_row <= 140 or blocks_per_row == 64


def test_one_flat_epoch_does_not_stop_a_falling_loss():
    config = SwivelConfig(tolerance=0.02, min_row_updates=1, row_updates=5000)
    losses = [20.0 * 0.97**k for k in range(40)]  # 3% an epoch
    losses[20] = losses[19]  # one epoch that gained nothing, as Adagrad's noisy epochs do
    assert first_stop(losses, config, 17) == (None, None)
    losses[21:] = [losses[20] * 1.001] * 19  # a loss that rose over a whole window stops it
    epoch, reason = first_stop(losses, config, 17)
    assert epoch == 26 and "raised the loss" in reason  # epochs 21-26 against epoch 20


def test_training_length_counts_row_updates():
    config = SwivelConfig(row_updates=1000, tolerance=0)
    assert [max_epochs(config, n) for n in (4, 17, 28, 33)] == [250, 59, 36, 31]
    assert max_epochs(SwivelConfig(epochs=5), 28) == 5  # an explicit epoch cap overrides
    assert stop_reason([9.0] * 35, config, 28) is None
    assert stop_reason([9.0] * 36, config, 28) == "reached the maximum of 36 epochs (1008 row updates)"
