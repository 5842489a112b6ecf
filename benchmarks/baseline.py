"""The usual way: `sympy.simplify(diff(f) - claim) == 0` per step, 5 s hard limit, one worker."""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import sys
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import sympy
from pebble import ProcessExpired, ProcessPool

#: Outcomes of one step.
PROVED = "proved"  # simplify gave 0: the baseline calls the step right
TIMEOUT = "timeout"  # killed at the limit: unproven
NOT_PROVED = "not-proved"  # simplify did not give 0: the baseline calls the step wrong
ERROR = "error"  # the call raised or the worker died


def prove(f: sympy.Expr, var: sympy.Symbol, claim: sympy.Expr) -> bool:
    """The usual check of `d(f)/d(var) = claim`: does simplify bring the difference to 0?"""
    return sympy.simplify(sympy.diff(f, var) - claim) == 0


def run(steps: list[dict], limit: float = 5.0) -> dict:
    """Check every step in turn in one worker process, killing any call that runs over limit."""
    results = []
    start = time.perf_counter()
    with ProcessPool(max_workers=1) as pool:
        for step in steps:
            t0 = time.perf_counter()
            future = pool.schedule(prove, args=(step["f"], step["var"], step["claim"]),
                                   timeout=limit)
            detail = ""
            try:
                outcome = PROVED if future.result() else NOT_PROVED
            except FutureTimeout:
                outcome = TIMEOUT
            except ProcessExpired as exc:
                outcome, detail = ERROR, f"worker died: {exc}"
            except Exception as exc:
                outcome, detail = ERROR, f"{type(exc).__name__}: {exc}"
            results.append({"title": step["title"], "index": step["index"],
                            "right": step["right"], "outcome": outcome,
                            "seconds": round(time.perf_counter() - t0, 4), "detail": detail})
        pool.close()
        pool.join()
    wall = time.perf_counter() - start
    return {"limit": limit, "wall_s": wall, "steps": results, **summarize(results),
            **peak_memory()}


def summarize(results: list[dict]) -> dict:
    """Counts of outcomes, and how they compare with the ground truth."""
    counts = {k: 0 for k in (PROVED, TIMEOUT, NOT_PROVED, ERROR)}
    for r in results:
        counts[r["outcome"]] += 1
    right = [r for r in results if r["right"]]
    wrong = [r for r in results if not r["right"]]
    return {
        "counts": counts,
        "right_steps": len(right),
        "wrong_steps": len(wrong),
        "right_proved": sum(r["outcome"] == PROVED for r in right),
        "wrong_caught": sum(r["outcome"] == NOT_PROVED for r in wrong),
        "right_called_wrong": sum(r["outcome"] == NOT_PROVED for r in right),
        "wrong_called_right": sum(r["outcome"] == PROVED for r in wrong),
    }


def peak_memory() -> dict:
    """Peak resident set size (ru_maxrss, KiB on Linux) of this process and of its workers."""
    return {
        "maxrss_self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "maxrss_children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: run the baseline on a pickled course, or on a freshly generated one."""
    ap = argparse.ArgumentParser(description=__doc__)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="course data pickled by generate.py --data")
    src.add_argument("--size", type=int, help="generate a course of this many steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=5.0, help="seconds per step (default 5)")
    ap.add_argument("--json", type=Path, help="write the full results here")
    args = ap.parse_args(argv)
    if args.data is not None:
        steps = pickle.loads(args.data.read_bytes())["steps"]
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from generate import generate, plain_data

        steps = plain_data(generate(args.size, args.seed))["steps"]
    result = run(steps, args.limit)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    c = result["counts"]
    print(f"baseline: {len(steps)} steps in {result['wall_s']:.2f} s "
          f"(limit {args.limit:g} s/step): {c[PROVED]} proved, {c[TIMEOUT]} timed out, "
          f"{c[NOT_PROVED]} not proved (called wrong), {c[ERROR]} errors; "
          f"{result['right_proved']}/{result['right_steps']} right steps proved, "
          f"{result['wrong_caught']}/{result['wrong_steps']} wrong steps caught, "
          f"{result['right_called_wrong']} right steps called wrong; peak RSS "
          f"{result['maxrss_self_kib'] / 1024:.0f} MiB (self), "
          f"{result['maxrss_children_kib'] / 1024:.0f} MiB (worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
