"""Screenshots of every HQ console screen, in Chinese and English, into docs/screenshots/hq/.

The screens are the ones the console's browser test walks (its own HQ, CLI-made admin,
TOTP enrolment, two regions' stores with members), so a screenshot is never of a page
the test did not check; this runs that test with POSAPP_SCREENSHOT_DIR set, in Debian's
chromium. Writes ``<out>/<zh|en>-<nn>-<screen>.png``.

    .venv/bin/python tools/console_screenshots.py [--out docs/screenshots/hq]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/hq/console/test_console_browser.py::test_every_screen_draws_without_a_csp_violation"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "hq")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "POSAPP_SCREENSHOT_DIR": str(args.out.resolve()), "CI": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT, env=env
    )
    shots = sorted(args.out.glob("*.png"))
    sys.stdout.write(f"{len(shots)} screenshots in {args.out}\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
