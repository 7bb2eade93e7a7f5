"""`make bench`: the counter benchmark at 1,000,000 members, printed as JSON and Markdown.

Seeds the benchmark data dir first when it holds fewer members (in a child process,
so the measured process's memory is the counter's, not the seeder's). The database is
SQLCipher-encrypted as at a counter; ``--plaintext-dir`` names a plaintext copy of the
same data to measure in the same run (its rss_mb is the run's peak), so encryption's cost is a ratio, not a guess
(target: within 1.5x). A plaintext data dir given as ``--data-dir`` is converted once.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from posapp import bench

ENCRYPTION_LIMIT = 1.5
COMPARED = ("identify_phone_p99_ms", "identify_code_p99_ms", "record_sale_p99_ms")


def _table(result: dict[str, Any]) -> None:
    verdict = bench.verdicts(result)
    print("| measure | value | target | met |")
    print("|---|---|---|---|")
    for key, value in result.items():
        target = bench.TARGETS.get(key)
        met = "" if target is None else ("yes" if verdict[key] else "**no**")
        print(f"| `{key}` | {value} | {'' if target is None else f'≤ {target}'} | {met} |")


def _comparison(encrypted: dict[str, Any], plaintext: dict[str, Any]) -> None:
    print(f"| measure | plaintext | encrypted | ratio (≤ {ENCRYPTION_LIMIT}) |")
    print("|---|---|---|---|")
    for key in COMPARED:
        ratio = encrypted[key] / plaintext[key] if plaintext[key] else float("inf")
        mark = "" if ratio <= ENCRYPTION_LIMIT else " **over**"
        print(f"| `{key}` | {plaintext[key]} | {encrypted[key]} | {ratio:.2f}{mark} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=bench.SAMPLES)
    parser.add_argument(
        "--plaintext-dir", type=Path, help="a plaintext copy of the data, measured second"
    )
    args = parser.parse_args()
    result = bench.run(args.data_dir, args.members, samples=args.samples)
    plaintext = (  # second: the peak RSS (a process's, never lower) is then the counter's own
        bench.run(args.plaintext_dir, args.members, samples=args.samples, encrypt=False)
        if args.plaintext_dir
        else None
    )
    print(bench.as_json(result))
    if plaintext is not None:
        print(bench.as_json(plaintext))
    print()
    _table(result)
    if plaintext is not None:
        print()
        _comparison(result, plaintext)


if __name__ == "__main__":
    main()
