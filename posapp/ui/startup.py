"""Before the window: the crash log, one instance per data dir, and a database that opens.

Kept out of ``app.py`` so ``run_counter`` only calls ``begin`` and ``open_counter_database``.
A database that cannot be used (from a newer posapp, a failed and undone upgrade, damage)
is explained in a message box, and the counter does not start.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from posapp.crashlog import install_crash_log
from posapp.settings import default_data_dir
from posapp.store.db import Database, StorageError
from posapp.store.migrate import MigrationFailed, SchemaTooNew, head_revision, open_database
from posapp.ui.single_instance import SingleInstance

log = logging.getLogger(__name__)


def begin(data_dir: Path | None) -> SingleInstance | None:
    """Log crashes to the data dir; None when another posapp has it (and was brought forward)."""
    folder = Path(data_dir) if data_dir else default_data_dir()
    install_crash_log(folder)
    instance = SingleInstance(folder)
    if not instance.claim():
        log.info("posapp is already open on this data dir: asked it forward, exiting")
        return None
    return instance


def explain(exc: StorageError) -> str:
    """What the store manager reads, in the screen's language."""
    if isinstance(exc, SchemaTooNew):
        return QCoreApplication.translate(
            "Startup",
            "This database was written by a newer posapp (schema %1). Install that version "
            "or a newer one. Nothing was changed.",
        ).replace("%1", exc.revision)
    if isinstance(exc, MigrationFailed) and exc.backup is not None:
        return (
            QCoreApplication.translate(
                "Startup",
                "The update could not convert the database (schema %1 to %2): it was put back "
                "exactly as it was before the update, from the backup %3. No sale was lost. "
                "Install the previous posapp version again, or call support.",
            )
            .replace("%1", exc.current or "")
            .replace("%2", head_revision())
            .replace("%3", str(exc.backup))
        )
    return QCoreApplication.translate("Startup", "The database cannot be opened: %1").replace(
        "%1", exc.message
    )


def show_start_error(text: str) -> None:
    """A modal box before any window exists (tests replace this function)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    QMessageBox.critical(None, QCoreApplication.translate("Startup", "posapp cannot start"), text)


def open_counter_database(path: Path) -> Database | None:
    """The migrated database, or None after telling the user why the counter cannot start."""
    try:
        return open_database(path)
    except StorageError as exc:
        log.error("start refused: %s", exc.rule)
        show_start_error(explain(exc))
        return None
