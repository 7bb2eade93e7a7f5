"""A stand-in for a second posapp process: ``python single_instance_child.py DATA_DIR``.

Prints ``first`` and waits to be asked forward (then prints ``activated`` and exits 0), or
prints ``second`` after asking the first forward, and exits 0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from posapp.ui.single_instance import SingleInstance


def main() -> int:
    app = QApplication(sys.argv[:1])
    instance = SingleInstance(Path(sys.argv[1]))
    if not instance.claim(timeout_s=5):
        sys.stdout.write("second\n")
        return 0
    window = QWidget()
    window.showMinimized()
    instance.listen(window)

    def activated() -> None:
        minimized = window.isMinimized()
        sys.stdout.write(f"activated minimized={minimized}\n")
        sys.stdout.flush()
        app.quit()

    instance.sig_activate.connect(activated, type=Qt.ConnectionType.QueuedConnection)
    sys.stdout.write("first\n")
    sys.stdout.flush()
    QTimer.singleShot(30_000, app.quit)  # never outlive a broken test
    app.exec()
    instance.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
