"""Benchmark `derive check` against the usual simplify-per-step way: `python benchmarks/run.py`."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (a sibling script, not a package)

PY = sys.executable
PROVED = ("holds", "holds-at-point")
FLAGGED = ("wrong", "disagree")
TAIL = 1500  # characters of a failing command's output to show


# --------------------------------------------------------------------------- measuring


def _tree_rss_kib(root: int) -> int:
    """Total resident memory of root and all its descendants, from /proc (0 if gone)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * page_kib
        except (OSError, IndexError, ValueError):
            continue
    return total


class _Sampler(threading.Thread):
    """Samples the total RSS of a process tree every 50 ms, keeping the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self._stop_event = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.pid))
            self._stop_event.wait(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def measure(cmd: list[str], cwd: Path = REPO, timeout: float | None = None) -> dict:
    """Run cmd; its wall time, exit code, output, and peak memory.

    `maxrss_kib` is ru_maxrss from wait4: the largest single process among the
    command and the descendants it waited for. `tree_peak_kib` is the largest
    total RSS of the whole process tree, sampled every 50 ms.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        sampler = _Sampler(proc.pid)
        sampler.start()
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group of the process we started
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        out.seek(0)
        err.seek(0)
        return {"cmd": cmd, "wall_s": wall, "returncode": proc.returncode,
                "timed_out": timed_out.is_set(),
                "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace"),
                "maxrss_kib": usage.ru_maxrss, "tree_peak_kib": sampler.peak_kib}


def _failure(res: dict, ok_codes: tuple[int, ...] = (0, 1)) -> str | None:
    """Why a measured command failed, or None."""
    if res["timed_out"]:
        return f"killed after {res['wall_s']:.0f} s"
    crashed = res["returncode"] != 0 and ("Traceback" in res["stderr"]
                                          or not res["stdout"].strip())
    if res["returncode"] not in ok_codes or crashed:
        tail = (res["stderr"] or res["stdout"])[-TAIL:].strip()
        return f"exit {res['returncode']}: {tail}"
    return None


def _mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


# --------------------------------------------------------------------------- scoring


def score_derive(doc: dict, truth: dict[str, list[bool]]) -> dict:
    """Compare derive's JSON report (spec section 7) with the ground truth."""
    by_title: dict[str, dict] = {}
    for d in doc.get("derivations", []):
        by_title.setdefault(d.get("title"), d)
    counts = {"proved": 0, "unproven": 0, "wrong": 0, "error": 0}
    verdicts: dict[str, int] = {}
    score = {"right_proved": 0, "wrong_caught": 0, "right_called_wrong": 0,
             "wrong_called_right": 0}
    for title, rights in truth.items():
        d = by_title.get(title)
        steps = {s.get("index"): s.get("verdict") for s in (d or {}).get("steps") or []}
        for index, right in enumerate(rights, 1):
            verdict = steps.get(index, "error" if d and d.get("error") else "missing")
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            if verdict in PROVED:
                counts["proved"] += 1
                score["right_proved" if right else "wrong_called_right"] += 1
            elif verdict == "unproven":
                counts["unproven"] += 1
            elif verdict in FLAGGED:
                counts["wrong"] += 1
                score["wrong_caught" if not right else "right_called_wrong"] += 1
            else:
                counts["error"] += 1
    return {"counts": counts, "verdicts": verdicts, **score}


def score_baseline(res: dict) -> dict:
    """The baseline's outcomes in the same terms as derive's."""
    c = res["counts"]
    return {"counts": {"proved": c["proved"], "unproven": c["timeout"],
                       "wrong": c["not-proved"], "error": c["error"]},
            **{k: res[k] for k in ("right_proved", "wrong_caught", "right_called_wrong",
                                   "wrong_called_right")}}


# --------------------------------------------------------------------------- one size


def bench_size(size: int, seed: int, limit: float, work: Path, derive_timeout: float,
               run_baseline: bool) -> dict:
    """Generate a course of `size` steps, then time the baseline and derive on it."""
    out: dict = {"size": size}
    course_dir, data = work / f"course-{size}", work / f"course-{size}.pkl"
    t0 = time.perf_counter()
    course = generate.generate(size, seed)
    generate.write(course, course_dir, data)
    truth = generate.truth(course)
    n_wrong = sum(not r for rights in truth.values() for r in rights)
    out.update(blocks=len(course.blocks), right_steps=size - n_wrong, wrong_steps=n_wrong,
               generate_s=time.perf_counter() - t0, course=str(course_dir))
    _log(f"[{size}] generated {size} steps ({n_wrong} wrong) in {out['generate_s']:.1f} s")

    if run_baseline:
        _log(f"[{size}] baseline: sympy.simplify per step, {limit:g} s limit ...")
        result_file = work / f"baseline-{size}.json"
        res = measure([PY, str(HERE / "baseline.py"), "--data", str(data), "--limit",
                       str(limit), "--json", str(result_file)])
        why = _failure(res, (0,))
        if why:
            _log(f"[{size}] baseline failed: {why}")
            out["baseline"] = {"error": why}
        else:
            inner = json.loads(result_file.read_text(encoding="utf-8"))
            inner.pop("steps")
            out["baseline"] = {"wall_s": res["wall_s"], "check_wall_s": inner["wall_s"],
                               "maxrss_kib": res["maxrss_kib"],
                               "tree_peak_kib": res["tree_peak_kib"], **score_baseline(inner)}
            _log(f"[{size}] baseline: {res['wall_s']:.1f} s")

    _log(f"[{size}] derive check --format json --no-cache ...")
    res = measure([PY, "-m", "derive", "check", "--format", "json", "--no-cache",
                   str(course_dir)], timeout=derive_timeout)
    why = _failure(res)
    doc = None
    if not why:
        try:
            doc = json.loads(res["stdout"])
        except json.JSONDecodeError as exc:
            why = (f"output is not JSON ({exc}): {res['stdout'][:TAIL]!r}; "
                   f"stderr: {res['stderr'][-TAIL:]!r}")
    if why:
        _log(f"[{size}] derive failed: {why}")
        out["derive"] = {"error": why, "wall_s": res["wall_s"]}
    else:
        out["derive"] = {"wall_s": res["wall_s"], "returncode": res["returncode"],
                         "maxrss_kib": res["maxrss_kib"], "tree_peak_kib": res["tree_peak_kib"],
                         **score_derive(doc, truth)}
        _log(f"[{size}] derive: {res['wall_s']:.1f} s")
    return out


def print_size(r: dict) -> None:
    """The table of one size."""
    b, d = r.get("baseline"), r["derive"]
    print(f"\n== {r['size']} steps: {r['blocks']} blocks, {r['right_steps']} right, "
          f"{r['wrong_steps']} wrong ==")
    for name, x in (("baseline", b), ("derive", d)):
        if x and "error" in x:
            print(f"  {name} FAILED: {x['error']}")

    def col(x: dict | None, fn) -> str:
        return "-" if not x or "error" in x else fn(x)

    n = r["size"]
    rows = [
        ("wall time", lambda x: f"{x['wall_s']:.2f} s"),
        ("time per step", lambda x: f"{1000 * x['wall_s'] / n:.1f} ms"),
        ("proved (holds)", lambda x: str(x["counts"]["proved"])),
        ("unproven", lambda x: str(x["counts"]["unproven"])),
        ("called wrong", lambda x: str(x["counts"]["wrong"])),
        ("error", lambda x: str(x["counts"]["error"])),
        ("right steps proved", lambda x: f"{x['right_proved']}/{r['right_steps']}"),
        ("wrong steps caught", lambda x: f"{x['wrong_caught']}/{r['wrong_steps']}"),
        ("caught every wrong step",
         lambda x: "yes" if x["wrong_caught"] == r["wrong_steps"] else "NO"),
        ("no right step called wrong",
         lambda x: "yes" if x["right_called_wrong"] == 0 else f"NO ({x['right_called_wrong']})"),
        ("wrong steps called right", lambda x: str(x["wrong_called_right"])),
        ("peak RSS, largest process", lambda x: _mib(x["maxrss_kib"])),
        ("peak RSS, process tree", lambda x: _mib(x["tree_peak_kib"])),
    ]
    print(f"  {'':28}{'baseline':>14}{'derive':>14}")
    for label, fn in rows:
        print(f"  {label:28}{col(b, fn):>14}{col(d, fn):>14}")
    if b and d and "error" not in b and "error" not in d:
        print(f"  {'speed-up of derive':28}{'':>14}{b['wall_s'] / d['wall_s']:>13.1f}×")
    if b and "error" not in b:
        print(f"  (baseline: {b['check_wall_s']:.2f} s of it inside the checking loop)")
    if "error" not in d and d["verdicts"]:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(d["verdicts"].items()))
        print(f"  derive verdicts: {verdicts}")


def print_growth(results: list[dict]) -> None:
    """How wall time grows with the number of steps."""
    print("\n== growth with the number of steps ==")
    print(f"  {'steps':>6}{'baseline s':>12}{'derive s':>10}{'derive ms/step':>16}"
          f"{'marginal ms/step':>18}{'exponent':>10}")
    prev = None
    for r in results:
        d, b = r["derive"], r.get("baseline") or {}
        dt = None if "error" in d else d["wall_s"]
        bt = b.get("wall_s")
        marginal = exponent = "-"
        if dt and prev:
            n0, t0 = prev
            marginal = f"{1000 * (dt - t0) / (r['size'] - n0):.1f}"
            exponent = f"{math.log(dt / t0) / math.log(r['size'] / n0):.2f}"
        per = f"{1000 * dt / r['size']:.1f}" if dt else "-"
        print(f"  {r['size']:>6}{(f'{bt:.2f}' if bt else '-'):>12}"
              f"{(f'{dt:.2f}' if dt else '-'):>10}{per:>16}{marginal:>18}{exponent:>10}")
        prev = (r["size"], dt) if dt else prev
    print("  (exponent: log-log slope from the previous size; 1 is linear. marginal: extra"
          " time per extra step, i.e. without the fixed start-up cost)")


# --------------------------------------------------------------------------- shipped notes


def _median_run(cmd: list[str], runs: int, timeout: float, ok_codes=(0, 1)) -> dict:
    """Median wall time of `runs` runs of cmd (stops at the first failure)."""
    walls, last = [], {}
    for _ in range(runs):
        last = measure(cmd, timeout=timeout)
        why = _failure(last, ok_codes)
        if why:
            return {"error": why}
        walls.append(last["wall_s"])
    return {"wall_s": statistics.median(walls), "walls": walls,
            "returncode": last["returncode"], "maxrss_kib": last["maxrss_kib"]}


def bench_notes(timeout: float) -> dict:
    """Shipped notes: uncached check vs bare imports, and a cached rerun."""
    _log("[notes] bare imports, derive check --no-cache, derive check (cached) ...")
    imports = _median_run([PY, "-c", "import sympy, torch, jax"], 3, timeout, (0,))
    cold = _median_run([PY, "-m", "derive", "check", "--no-cache"], 3, timeout)
    fill = _median_run([PY, "-m", "derive", "check"], 1, timeout)  # writes the cache
    cached = (_median_run([PY, "-m", "derive", "check"], 3, timeout) if "error" not in fill
              else fill)
    return {"imports": imports, "uncached": cold, "cache_fill": fill, "cached": cached}


def print_notes(r: dict) -> None:
    """The shipped-notes table."""
    print("\n== shipped notes (python -m derive check, no PATHS; median of 3) ==")
    for key, label in (("imports", "python -c 'import sympy, torch, jax'"),
                       ("uncached", "derive check --no-cache"),
                       ("cache_fill", "derive check (fills the cache)"),
                       ("cached", "derive check (cached rerun)")):
        x = r[key]
        if "error" in x:
            print(f"  {label:40} FAILED: {x['error']}")
        else:
            note = "" if x["returncode"] == 0 else f"  (exit {x['returncode']})"
            print(f"  {label:40}{x['wall_s']:8.2f} s  {_mib(x['maxrss_kib']):>9}{note}")
    imp, cold, cached = r["imports"], r["uncached"], r["cached"]
    if "error" not in imp and "error" not in cold:
        ratio = cold["wall_s"] / imp["wall_s"]
        print(f"  uncached / imports: {ratio:.2f}×  (target ≤ 1.5×: "
              f"{'met' if ratio <= 1.5 else 'NOT met'})")
    if "error" not in cached:
        print(f"  cached rerun: {cached['wall_s']:.2f} s  (target < 1 s: "
              f"{'met' if cached['wall_s'] < 1 else 'NOT met'})")


def print_targets(results: list[dict]) -> None:
    """The 100-step targets."""
    r = next((x for x in results if x["size"] == 100), None)
    if r is None:
        return
    b, d = r.get("baseline") or {}, r["derive"]
    print("\n== targets at 100 steps ==")
    if "error" in d or not b or "error" in b:
        print("  not measurable: a command failed or the baseline was skipped")
        return
    speed = b["wall_s"] / d["wall_s"]
    checks = [
        (f"≥5× faster than the baseline ({speed:.1f}×)", speed >= 5),
        (f"proves at least as many right steps ({d['right_proved']} vs {b['right_proved']})",
         d["right_proved"] >= b["right_proved"]),
        (f"catches every wrong step ({d['wrong_caught']}/{r['wrong_steps']})",
         d["wrong_caught"] == r["wrong_steps"]),
        (f"calls no right step wrong ({d['right_called_wrong']})",
         d["right_called_wrong"] == 0),
    ]
    for text, ok in checks:
        print(f"  [{'met' if ok else 'NOT met':>7}] {text}")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10,100,1000",
                    help="comma-separated numbers of steps (default 10,100,1000)")
    ap.add_argument("--baseline-limit", type=float, default=5.0,
                    help="hard time limit of the baseline per step, in seconds (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the generated course")
    ap.add_argument("--skip-baseline-above", type=int, default=None, metavar="N",
                    help="do not run the baseline on courses of more than N steps")
    ap.add_argument("--no-notes", action="store_true",
                    help="skip the shipped-notes and cache measurements")
    ap.add_argument("--derive-timeout", type=float, default=3600,
                    help="kill a derive run after this many seconds (default 3600)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="write the generated courses here and keep them")
    ap.add_argument("--json", type=Path, default=None, help="also write all results here")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    work = args.keep or Path(tempfile.mkdtemp(prefix="derive-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        # Warm the file cache, so the first measured command does not pay for it alone.
        _log("warming up: python -c 'import sympy, torch, jax' ...")
        measure([PY, "-c", "import sympy, torch, jax, pebble"], timeout=args.derive_timeout)
        for size in sizes:
            run_baseline = args.skip_baseline_above is None or size <= args.skip_baseline_above
            results.append(bench_size(size, args.seed, args.baseline_limit, work,
                                      args.derive_timeout, run_baseline))
            print_size(results[-1])
            sys.stdout.flush()
        print_growth(results)
        print_targets(results)
        notes = None if args.no_notes else bench_notes(args.derive_timeout)
        if notes:
            print_notes(notes)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"python": PY, "seed": args.seed,
                                         "baseline_limit": args.baseline_limit,
                                         "sizes": results, "notes": notes},
                                        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
