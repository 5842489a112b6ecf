"""The command line: `derive check` and `derive report`; errors become exit codes here only."""

from __future__ import annotations

import _thread
import argparse
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from derive.budget import quiet_unraisable
from derive.engines import DEFAULT_ENGINES, ENGINES
from derive.errors import DeriveError, EngineUnavailable, UsageError
from derive.runner import Options, check_files

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
INTERRUPT_GRACE = 10  # seconds after a signal before derive leaves without clean-up


def shipped_notes() -> str:
    """The course notes that ship with the package, as a path relative to here if possible."""
    notes = Path(__file__).resolve().parent / "notes"
    try:
        return notes.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return notes.as_posix()


def _engines(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown engine {unknown[0]!r} (choose from {', '.join(ENGINES)})")
    if not names:
        raise argparse.ArgumentTypeError("name at least one engine")
    return names


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _nonnegative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be a number >= 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `derive`."""
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Check the derivations in course notes with SymPy, PyTorch and JAX.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", metavar="PATH",
                        help="Markdown files, notebooks or directories (default: the course "
                        "notes that ship with derive)")
    common.add_argument("--samples", type=_positive_int, default=16,
                        help="random sample points per step (default: 16)")
    common.add_argument("--seed", type=int, default=0,
                        help="seed mixed into each block's sampling (default: 0)")
    common.add_argument("--rtol", type=_nonnegative_float, default=1e-9,
                        help="relative tolerance of numeric comparisons (default: 1e-9)")
    common.add_argument("--atol", type=_nonnegative_float, default=1e-12,
                        help="absolute tolerance of numeric comparisons (default: 1e-12)")
    common.add_argument("--engines", type=_engines, default=DEFAULT_ENGINES,
                        help="numeric engines, comma-separated (default: torch,jax)")
    common.add_argument("--budget", type=_nonnegative_float, default=4.0,
                        help="seconds of SymPy time per step (default: 4)")
    common.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1,
                        help="worker processes (default: the number of cores)")
    common.add_argument("--no-cache", action="store_true",
                        help="ignore and do not write the verdict cache in .derive-cache/")
    common.add_argument("--debug", action="store_true",
                        help="show a traceback when derive itself fails")
    check = sub.add_parser("check", parents=[common], help="check derivations; exit 1 on a "
                           "failing step", description="Print one line per failing step.")
    check.add_argument("--format", choices=("text", "json", "github"), default="text",
                       help="text (default), json (spec section 7) or github annotations")
    report = sub.add_parser("report", parents=[common], help="write Markdown reports",
                            description="Write index.md and one page per source file.")
    report.add_argument("--out", default="reports", metavar="DIR",
                        help="directory for the reports (default: reports/)")
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """Run options from parsed arguments."""
    return Options(samples=args.samples, seed=args.seed, rtol=args.rtol, atol=args.atol,
                   engines=tuple(args.engines), step_budget=args.budget, jobs=args.jobs,
                   cache=not args.no_cache)


def run(args: argparse.Namespace) -> int:
    """Carry out a parsed command; return the exit status."""
    from derive.output import render_check, render_github, render_json

    paths = args.paths or [shipped_notes()]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise UsageError(f"no such file or directory: {missing[0]}")
    with _progress(enabled=sys.stderr.isatty()) as progress:
        result = check_files(paths, options_from(args), progress)
    if args.command == "report":
        from derive.report import write_reports

        written = write_reports(result, Path(args.out))
        sys.stdout.write(render_check(result))
        print(f"derive: wrote {len(written)} report page(s) to {args.out}/")
    elif args.format == "json":
        sys.stdout.write(render_json(result))
    elif args.format == "github":
        sys.stdout.write(render_github(result))
    else:
        sys.stdout.write(render_check(result))
    return EXIT_OK if result.ok else EXIT_FAILED


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr (rich) when it is a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("derive"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}", markup=False), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, title: str) -> None:
            bar.update(task, completed=done, total=total, description=title[:50])

        yield update


def main(argv: Sequence[str] | None = None) -> int:
    """Run derive with `argv`; return the exit status (never raises for user mistakes)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    try:
        with _terminate_interrupts():
            return run(args)
    except KeyboardInterrupt:
        print("derive: interrupted; reports already written were left as they were",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UsageError, EngineUnavailable) as exc:
        print(f"derive: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DeriveError as exc:
        print(f"derive: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception:
        if args.debug:
            traceback.print_exc()
        print("derive: internal error: this is a bug in derive, not in your notes; please "
              "report it with the output of the same command run with --debug",
              file=sys.stderr)
        return EXIT_INTERNAL


@contextmanager
def _terminate_interrupts() -> Iterator[None]:
    """Make SIGTERM (a cancelled CI job) and Ctrl-C stop a run for sure: workers stopped,
    reports already written kept, exit status 130.

    The signal raises KeyboardInterrupt in the main thread; Python drops an exception
    raised inside a garbage-collector or weakref callback, so a watchdog raises it again
    every second, and after INTERRUPT_GRACE seconds stops the workers and leaves."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    done = threading.Event()
    fired = threading.Event()

    def insist() -> None:
        for _ in range(INTERRUPT_GRACE):
            if done.wait(1.0):
                return
            _thread.interrupt_main()
        if not done.is_set():  # stuck in C code: stop the workers and leave
            for child in multiprocessing.active_children():
                child.kill()
            print("derive: interrupted", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)

    def interrupt(signum, frame):
        if not fired.is_set():
            fired.set()
            threading.Thread(target=insist, daemon=True).start()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = quiet_unraisable  # the watchdog raises a dropped interrupt again
    try:
        yield
    finally:
        done.set()
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def console_main() -> None:
    """Entry point of the `derive` console script."""
    status = main()
    if status == EXIT_INTERRUPTED:
        # the workers are stopped and the message is out; skip the interpreter's clean-up,
        # where libraries interrupted half-way (an import of torch, say) can print noise
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
