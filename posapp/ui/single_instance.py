"""One counter window per data dir: a second start brings the first window forward.

Two windows on one data dir would be two writers of one outbox and two POS intakes on one
port. A lock file in the data dir decides who is first (the OS drops it when a process
dies, so a crash leaves nothing stale to clean up); the first also listens on a
``QLocalServer`` named after a hash of the data dir's path, and a later start connects to
it, says ``activate`` and exits.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)
LOCK_FILE = "instance.lock"
ACTIVATE = b"activate\n"


def server_name(data_dir: Path) -> str:
    """The local socket's name: same data dir (however it was spelt), same name."""
    key = str(Path(data_dir).expanduser().resolve())
    if sys.platform in ("win32", "darwin"):  # case-insensitive file names
        key = key.lower()
    return "posapp-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def bring_forward(window: QWidget) -> None:
    """Un-minimise, raise and focus ``window`` (the OS may only flash it in the taskbar)."""
    window.setWindowState(
        (window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive
    )
    window.show()
    window.raise_()
    window.activateWindow()


def ask_first_to_activate(name: str, *, timeout_s: float = 10.0) -> bool:
    """Tell the running instance to come forward; it may still be starting, so retry."""
    deadline = time.monotonic() + timeout_s
    while True:
        socket = QLocalSocket()
        socket.connectToServer(name)
        if socket.waitForConnected(500):
            socket.write(ACTIVATE)
            sent = socket.waitForBytesWritten(2000)
            socket.disconnectFromServer()
            if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
                socket.waitForDisconnected(1000)
            return sent
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


class SingleInstance(QObject):
    """``claim()`` first thing; ``listen()`` once there is a window to bring forward."""

    sig_activate = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.name = server_name(self.data_dir)
        self._lock: FileLock | None = None
        self._server: QLocalServer | None = None

    def claim(self, *, timeout_s: float = 10.0) -> bool:
        """True: we are the only posapp on this data dir. False: the other was asked forward."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.data_dir / LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if not ask_first_to_activate(self.name, timeout_s=timeout_s):
                log.warning("another posapp holds this data dir but did not answer")
            return False
        self._lock = lock
        return True

    def listen(self, window: QWidget | None = None) -> None:
        """Answer later starts; with ``window``, bring it forward when one knocks."""
        assert self._lock is not None, "claim() first"
        # Only the lock holder gets here, so a socket left by a crashed first is stale.
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("single-instance server did not start: %s", server.errorString())
            return
        server.newConnection.connect(self._accept)
        self._server = server
        if window is not None:
            self.sig_activate.connect(lambda: bring_forward(window))

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(self._ready)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _ready(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(ACTIVATE.strip()):
            log.info("a second start asked this window forward")
            self.sig_activate.emit()

    def release(self) -> None:
        """Stop answering and let the next start be first."""
        if self._server is not None:
            self._server.newConnection.disconnect(self._accept)
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
