"""When Swivel training stops, counted in row updates so that it means the same at every shard size
(docs/design.md, "Stopping")."""

from __future__ import annotations

from ..config import STOP_WINDOW, SwivelConfig


def max_epochs(config: SwivelConfig, blocks_per_row: int) -> int:
    """The most epochs to train: ``config.epochs`` if given, else enough for ``config.row_updates``."""
    return config.epochs if config.epochs is not None else -(-config.row_updates // blocks_per_row)


def stop_reason(losses: list[float], config: SwivelConfig, blocks_per_row: int) -> str | None:
    """Why training stops after these epoch losses, or None to go on (docs/design.md, "Stopping").

    Converged: past ``config.min_row_updates`` row updates (the loss's slow start), the epochs of the
    last ``STOP_WINDOW`` row updates lowered the loss by less than ``config.tolerance`` for each
    ``STOP_WINDOW`` row updates (a loss that rose over the window counts too). A row gets
    ``blocks_per_row`` updates an epoch, so the rule means the same at every shard size, and a window
    of several epochs does not stop on one noisy epoch. Else: the maximum number of epochs done.
    """
    epochs = len(losses)
    if config.tolerance > 0 and epochs * blocks_per_row >= config.min_row_updates:
        back = -(-STOP_WINDOW // blocks_per_row)  # epochs in the window
        if epochs > back:
            before, now = losses[-1 - back], losses[-1]
            gain = (before - now) / abs(before) * STOP_WINDOW / (back * blocks_per_row)
            if gain < config.tolerance:
                return (
                    f"converged: epochs {epochs - back + 1}-{epochs} ({back * blocks_per_row} row updates) "
                    f"{'lowered' if gain >= 0 else 'raised'} the loss by {abs(gain):.2%} per {STOP_WINDOW} row "
                    f"updates, less than the tolerance {config.tolerance:.2%}"
                )
    limit = max_epochs(config, blocks_per_row)
    if epochs >= limit:
        return f"reached the maximum of {limit} epochs ({limit * blocks_per_row} row updates)"
    return None
