"""The one settings object: where data lives, the region, the POS intake, HQ's address.

Stored as ``settings.json`` in the data dir (mode 0600: it holds the intake token),
with a version number and upgrade steps so old files keep working after an update.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from posapp.files import private_dir, tighten

SETTINGS_VERSION = 1
ENV_DATA_DIR = "POSAPP_DATA_DIR"
DB_NAME = "posapp.db"


def default_data_dir() -> Path:
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("posapp", appauthor=False))


@dataclass
class Settings:
    data_dir: Path
    region: str = "CN"
    currency: str = "CNY"
    language: str = "zh-CN"  # of the privacy notice and messages the CLI records
    ui_language: str = "auto"  # the counter screen's: auto (system locale), zh-CN or en
    idle_lock_minutes: int = 5
    buyer_keypad_seconds: float = 60  # the buyer's phone keypad waits this long for a key
    hq_url: str | None = None
    # How long a member look-up at HQ may take (connection and answer) before the counter
    # goes on with a walk-in: the customer is waiting.
    hq_lookup_seconds: float = 1.5
    intake_port: int = 8765
    intake_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # The receipt printer for invite slips, checked by posapp.printing.printer_from_config.
    printer: dict[str, Any] = field(default_factory=lambda: {"kind": "none"})

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @property
    def file(self) -> Path:
        return self.data_dir / "settings.json"

    def save(self) -> None:
        private_dir(self.data_dir)  # 0700: the data folder holds every member
        data = {k: v for k, v in asdict(self).items() if k != "data_dir"}
        data["version"] = SETTINGS_VERSION
        tmp = self.file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.file)


# Upgrade steps: UPGRADES[n] turns a version-n dict into version n+1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def load_settings(data_dir: Path | None = None) -> Settings:
    """Read the data dir's settings, creating them with defaults on first use."""
    folder = Path(data_dir) if data_dir else default_data_dir()
    settings = Settings(data_dir=folder)
    if not settings.file.exists():
        settings.save()
        return settings
    private_dir(folder)
    tighten(settings.file)  # a file from before 0600 was enforced
    data = json.loads(settings.file.read_text(encoding="utf-8"))
    version = int(data.pop("version", 1))
    while version < SETTINGS_VERSION:
        data = UPGRADES[version](data)
        version += 1
    known = {f.name for f in fields(Settings)} - {"data_dir"}
    for key, value in data.items():
        if key in known:
            setattr(settings, key, value)
    return settings
