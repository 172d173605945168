"""Per scale, in a fresh throwaway world: `shopflow run` from empty, after a one-day tick and
with --full-refresh; writes the Scale section of docs/benchmarks.md and its chart."""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

from ingestion.benchmarking.doc_sections import write_section
from ingestion.benchmarking.scale import DEFAULT_SCALES, run_scales
from ingestion.benchmarking.scale_report import CHART, draw_chart, render_section
from ingestion.database.server_settings import connection_settings

log = logging.getLogger(__name__)


def benchmark(scales: list[float], workdir: Path | None, write_doc: bool) -> str:
    """Measure every scale in a temporary folder (removed afterwards, also on failure);
    write the section and the chart unless told not to; return the section."""
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="shopflow-scale-", dir=workdir))
    log.info("landing files, dbt artifacts and logs go to %s (removed afterwards)", root)
    try:
        results = run_scales(connection_settings(), scales, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        log.info("removed %s", root)
    section = render_section(results, root, (time.perf_counter() - started) / 60)
    if write_doc:
        draw_chart(results)
        write_section(section)
        log.info("wrote the Scale section of docs/benchmarks.md and %s", CHART.name)
    return section


def parse_scales(text: str) -> list[float]:
    """``"0.2,1"`` -> ``[0.2, 1.0]``, in the given order."""
    try:
        scales = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--scales takes numbers separated by commas, not {text!r}"
        ) from None
    if not scales or any(scale <= 0 for scale in scales):
        raise argparse.ArgumentTypeError(f"--scales takes positive numbers, not {text!r}")
    return scales


def benchmark_arguments(
    prog: str, description: str | None, default_scales: list[float]
) -> argparse.ArgumentParser:
    """The arguments every scale-based benchmark takes: --scales, --workdir, --no-write."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    defaults = ",".join(f"{scale:g}" for scale in default_scales)
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=default_scales,
        help=f"comma-separated world scales (default: {defaults})",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where its temporary folder goes (default: the system temp; ~2 GB at scale 100)",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the doc")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run the benchmark and print its section."""
    parser = benchmark_arguments("scripts/benchmark scale", __doc__, list(DEFAULT_SCALES))
    args = parser.parse_args(argv)
    print(benchmark(args.scales, args.workdir, write_doc=not args.no_write))


if __name__ == "__main__":
    main()
