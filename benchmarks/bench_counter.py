"""`make bench`: the counter benchmark at 1,000,000 members, printed as JSON and Markdown.

Seeds the benchmark data dir first when it holds fewer members (in a child process,
so the measured process's memory is the counter's, not the seeder's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from posapp import bench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=bench.SAMPLES)
    args = parser.parse_args()
    result = bench.run(args.data_dir, args.members, samples=args.samples)
    verdict = bench.verdicts(result)
    print(bench.as_json(result))
    print()
    print("| measure | value | target | met |")
    print("|---|---|---|---|")
    for key, value in result.items():
        target = bench.TARGETS.get(key)
        met = "" if target is None else ("yes" if verdict[key] else "**no**")
        print(f"| `{key}` | {value} | {'' if target is None else f'≤ {target}'} | {met} |")


if __name__ == "__main__":
    main()
