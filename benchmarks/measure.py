"""Run one benchmark case in a fresh process; report its time, its peak memory and what it answered.

Memory is measured two ways, because they see different things:
- peak_rss_mb: how far the process's resident memory rose during the case (Linux VmHWM, reset before the
  case through /proc/self/clear_refs). It sees everything, including Pillow's and libjpeg's C buffers.
- python_heap_peak_mb: tracemalloc's peak over a second run. It sees only Python objects (openpyxl's cells,
  bytes), not C buffers, so for photo decoding it says little; it is printed for the brief's sake.
A fresh process per case keeps one case's freed-but-kept memory from hiding the next one's peak.
"""

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

MB = 1024 * 1024


def _status_kb(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS (Linux ≥ 4.0)
        return True
    except OSError:
        return False


def measure_here(case: Callable[[], str], *, heap_pass: bool = True) -> dict:
    """Run the case (it returns a short outcome) and return its seconds and peak memory, in this process."""
    baseline_kb = _status_kb("self", "VmRSS") or 0
    print(json.dumps({"baseline_rss_mb": round(baseline_kb / 1024, 1)}), file=sys.stderr, flush=True)
    reset = _reset_peak()
    start = time.perf_counter()
    outcome = case()
    seconds = time.perf_counter() - start
    peak_kb = _status_kb("self", "VmHWM") if reset else None
    result = {
        "outcome": outcome,
        "seconds": round(seconds, 3),
        "peak_rss_mb": round((peak_kb - baseline_kb) / 1024, 1) if peak_kb else None,
    }
    if heap_pass and seconds < 5:  # tracemalloc slows pure-Python code several times over
        tracemalloc.start()
        case()
        result["python_heap_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / MB, 1)
        tracemalloc.stop()
    return result


def run_case(script: Path, case: str, extra: list[str], timeout: float) -> dict:
    """Run `python script --case CASE` in a child; after `timeout` seconds stop it and say so."""
    command = [sys.executable, str(script), "--case", case, *extra]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    highest_kb = 0
    while child.poll() is None and time.monotonic() < deadline:
        highest_kb = max(highest_kb, _status_kb(child.pid, "VmHWM") or 0)
        time.sleep(0.05)
    if child.poll() is None:
        highest_kb = max(highest_kb, _status_kb(child.pid, "VmHWM") or 0)
        child.kill()
        _out, err = child.communicate()
        baseline = json.loads(err.splitlines()[0])["baseline_rss_mb"] if err.strip() else 0
        return {
            "outcome": f"still running after {timeout:.0f} s: stopped",
            "seconds": f">{timeout:.0f}",
            "peak_rss_mb": f">={round(highest_kb / 1024 - baseline, 1)}",
        }
    out, err = child.communicate()
    if child.returncode != 0:
        return {"outcome": "crashed", "stderr": err.strip().splitlines()[-1:]}
    return json.loads(out.strip().splitlines()[-1])
