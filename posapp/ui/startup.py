"""Before the window: the crash log, one instance per data dir, and a database that opens.

Kept out of ``app.py`` so ``run_counter`` only calls ``begin`` and ``open_counter_database``.
A database that cannot be used (from a newer posapp, a failed and undone upgrade, damage)
is explained in a message box, and the counter does not start. One the machine's key cannot
read is the exception: the box offers to start clean (the file is kept aside) and re-sync.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from posapp.crashlog import install_crash_log
from posapp.settings import default_data_dir
from posapp.store.db import Database, StorageError, UnreadableDatabase
from posapp.store.migrate import (
    MigrationFailed,
    SchemaTooNew,
    head_revision,
    open_database,
    start_clean,
)
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
    if isinstance(exc, UnreadableDatabase):
        why = (
            QCoreApplication.translate("Startup", "this computer has no key for it")
            if exc.reason == "no_key"
            else QCoreApplication.translate(
                "Startup", "the key kept on this computer does not open it"
            )
        )
        return (
            QCoreApplication.translate(
                "Startup",
                "The local data in %1 cannot be read with this computer's key (%2). Nothing was "
                "changed. Start clean to set the unreadable file aside (it is kept, not deleted) "
                "and fetch members and staff from HQ again after registering this counter. Sales "
                "not yet sent to HQ stay in the unreadable file.",
            )
            .replace("%1", str(exc.path))
            .replace("%2", why)
        )
    return QCoreApplication.translate("Startup", "The database cannot be opened: %1").replace(
        "%1", exc.message
    )


def show_start_error(text: str) -> None:
    """A modal box before any window exists (tests replace this function)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    QMessageBox.critical(None, QCoreApplication.translate("Startup", "posapp cannot start"), text)


def ask_start_clean(text: str) -> bool:
    """The unreadable-data box: Start clean, or Quit (the default). Tests replace it."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        QCoreApplication.translate("Startup", "posapp cannot start"),
        text,
    )
    clean = box.addButton(
        QCoreApplication.translate("Startup", "Start clean"), QMessageBox.ButtonRole.DestructiveRole
    )
    box.addButton(QCoreApplication.translate("Startup", "Quit"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(QMessageBox.StandardButton.NoButton)
    box.exec()
    return box.clickedButton() is clean


def open_counter_database(path: Path) -> Database | None:
    """The migrated database, or None after telling the user why the counter cannot start."""
    try:
        return open_database(path)
    except UnreadableDatabase as exc:
        log.error("start refused: %s (%s)", exc.rule, exc.reason)
        if not ask_start_clean(explain(exc)):
            return None
        moved = start_clean(path)
        log.warning("started clean: the unreadable data is kept as %s", moved.name)
        return open_counter_database(path)
    except StorageError as exc:
        log.error("start refused: %s", exc.rule)
        show_start_error(explain(exc))
        return None
