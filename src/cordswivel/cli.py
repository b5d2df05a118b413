"""The ``cordswivel`` command line: parse (``options``), run the command (``commands``, a thin layer
over the Python API), and turn errors into one line and an exit code.

Exit codes: 0 success, 1 data, model or system error (one line on stderr), 2 usage error, 130
interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import os
import signal
import sys
import threading
from typing import Any

from . import logs
from .errors import ConfigError, CordswivelError, describe_os_error
from .options import build_parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbosity = 1 if args.verbose else -1 if args.quiet else 0
    logs.configure(verbosity)
    with contextlib.ExitStack() as stack:
        if verbosity <= 0:
            stack.enter_context(logs.StderrFilter())
        return _run(args)


def console_main() -> None:
    """The ``cordswivel`` command: ``main``, then exit at once. Every output is written and closed by
    then, and tearing the interpreter down would only free memory: the loaded Numba kernels alone
    take 0.3 s to free."""
    code = main()
    atexit._run_exitfuncs()  # what sys.exit would run: logging's flush, any registered clean-up
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said there
            pass
    os._exit(code)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as on Ctrl-C (workers stopped,
    temporary files removed)."""


_MAIN_PID = os.getpid()


def _terminate(signum: int, frame: Any) -> None:
    if os.getpid() != _MAIN_PID:  # a forked worker (the signal went to the whole group): just stop
        os._exit(128 + signum)
    raise _Terminated


def _run(args: argparse.Namespace) -> int:
    """Run the command; every failure becomes one line ``cordswivel COMMAND: error: ...`` and an exit code."""
    name = f"cordswivel {args.command}"
    resume = (
        " (the last checkpoint is kept: the same command plus --resume continues)" if args.command == "train" else ""
    )
    previous = (
        signal.signal(signal.SIGTERM, _terminate) if threading.current_thread() is threading.main_thread() else None
    )
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except CordswivelError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 1
    except _Terminated:
        print(f"{name}: terminated{resume}", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"{name}: interrupted{resume}", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            f"{name}: error: out of memory{resume}; try smaller settings (--dim, --shard-size, --memory-limit)",
            file=sys.stderr,
        )
        return 1
    except RecursionError:
        print(f"{name}: error: input nested too deeply to process", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"{name}: error: {describe_os_error(exc)}{resume if exc.errno in (errno.ENOSPC, errno.EFBIG) else ''}",
            file=sys.stderr,
        )
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    console_main()
