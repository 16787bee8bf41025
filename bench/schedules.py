"""Schedules per second: exact equal-installment schedules against numpy-financial.

For 12-, 36- and 360-period loans, builds full schedules through the
``equal_installment`` plugin (Decimal, rounded half-up per row, due dates) and
computes the same loans' rows with numpy-financial's vectorised
``pmt``/``ipmt``/``ppmt`` (float, unrounded, no dates) in the same run. The
ratio shows what exactness costs; the target is a 360-period schedule in under
2 ms.

    .venv/bin/python bench/schedules.py [--loans N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import numpy as np  # noqa: E402
import numpy_financial as npf  # noqa: E402

from core import LoanTerms, Money  # noqa: E402
from plugins.tools.equal_installment import EqualInstallment  # noqa: E402


def loans(count: int, months: int) -> list[LoanTerms]:
    """A deterministic spread of principals (1,000–1,000,000) and rates (3–24%)."""
    return [
        LoanTerms(
            Money(100_000 + (i * 7_919_933) % 99_900_000, "CNY"),
            Decimal(300 + (i * 37) % 2100) / 100,
            months,
            "month",
            dt.date(2027, 1, 31),
        )
        for i in range(count)
    ]


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=200, help="loans per term (default 200)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs, best taken (default 5)")
    args = parser.parse_args(argv)
    method = EqualInstallment()
    print(f"{'periods':>7} {'exact/s':>10} {'ms each':>8} {'numpy/s':>10} {'exact÷numpy':>11}")
    worst_360 = None
    for months in (12, 36, 360):
        batch = loans(args.loans, months)
        exact = best_of(args.runs, lambda: [method.schedule(t) for t in batch])
        rates = np.array([float(t.annual_rate_percent) / 1200 for t in batch])[:, None]
        principals = np.array([t.principal.minor / 100 for t in batch])[:, None]
        periods = np.arange(1, months + 1)[None, :]

        def vectorised():
            npf.pmt(rates, months, principals)
            npf.ipmt(rates, periods, months, principals)
            npf.ppmt(rates, periods, months, principals)

        reference = best_of(args.runs, vectorised)
        each_ms = exact / len(batch) * 1000
        if months == 360:
            worst_360 = each_ms
        print(
            f"{months:>7} {len(batch) / exact:>10.0f} {each_ms:>8.3f} {len(batch) / reference:>10.0f} "
            f"{reference / exact:>11.3f}"
        )
    verdict = "meets" if worst_360 < 2 else "misses"
    print(f"360-period schedule: {worst_360:.3f} ms each — {verdict} the 2 ms target")
    return 0 if worst_360 < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
