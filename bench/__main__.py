"""Run the benchmarks and print their figures.

    python -m bench [--customers 10000] [--repeat 20]

Figures are wall-clock on the machine at hand; compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace-company"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 wall time in milliseconds over ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def bench_documents(repeat: int) -> None:
    """Loading and checking the example map, and rendering each document from it."""
    from personvern.datamap.cookies import render_cookie_declaration
    from personvern.datamap.loader import check_datamap, load_datamap
    from personvern.datamap.notice import render_notice
    from personvern.datamap.ropa import render_ropa

    datamap = load_datamap(EXAMPLE).datamap
    rows = [
        ("check example data map", timed(lambda: check_datamap(EXAMPLE), repeat)),
        ("notice nb html", timed(lambda: render_notice(datamap, "nb", "html"), repeat)),
        ("notice en txt", timed(lambda: render_notice(datamap, "en", "txt"), repeat)),
        ("ropa csv", timed(lambda: render_ropa(datamap, "csv"), repeat)),
        ("ropa json", timed(lambda: render_ropa(datamap, "json"), repeat)),
        (
            "cookies nb html",
            timed(lambda: render_cookie_declaration(datamap, "nb", "html"), repeat),
        ),
    ]
    print(f"{'documents':<28}{'median ms':>12}{'p95 ms':>12}")
    for name, (median, p95) in rows:
        print(f"{name:<28}{median:>12.2f}{p95:>12.2f}")


def bench_demo_seed(customers: int) -> None:
    """Seeding the demo company into SQLite: wall time and rows per second."""
    from personvern.demo import default_targets, seed_demo_company

    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        summary = seed_demo_company(default_targets(Path(home)), customers=customers)
        elapsed = time.perf_counter() - start
    files = sum(v for k, v in summary.rows.items() if k.startswith(("telephony.", "identity_")))
    rows = sum(summary.rows.values()) - files
    print(
        f"\ndemo seed, SQLite, {customers} customers: {elapsed:.1f} s, {rows} rows, "
        f"{rows / elapsed:,.0f} rows/s, {files} files"
    )


def main() -> None:
    """Parse arguments and run every benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    bench_documents(args.repeat)
    bench_demo_seed(args.customers)


if __name__ == "__main__":
    main()
