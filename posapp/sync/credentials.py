"""Where a registered counter keeps its HQ secret and its store's invite key.

In the OS keyring when there is one (Windows Credential Manager, macOS Keychain, Secret
Service). Where no keyring backend exists, as on a headless Linux till or in CI, in
``device-secret.json`` in the data dir, created with mode 0600 so only the app's user can
read it. ``posapp sync status`` says which one is in use.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import keyring
from keyring.errors import KeyringError, NoKeyringError

from posapp.files import private_dir, tighten

SERVICE = "posapp"
FALLBACK = "device-secret.json"


@dataclass(frozen=True)
class DeviceCredentials:
    token: str
    invite_key_hex: str
    where: str = "keyring"

    @property
    def invite_key(self) -> bytes:
        return bytes.fromhex(self.invite_key_hex)


def _usable_keyring() -> bool:
    backend = keyring.get_keyring()
    return getattr(backend, "priority", 0) > 0 and "fail" not in type(backend).__module__


def save(data_dir: Path, device_id: str, token: str, invite_key_hex: str) -> str:
    """Store the secret; returns ``"keyring"`` or the fallback file's path."""
    if _usable_keyring():
        try:
            keyring.set_password(SERVICE, f"{device_id}/token", token)
            keyring.set_password(SERVICE, f"{device_id}/invite-key", invite_key_hex)
            return "keyring"
        except (KeyringError, NoKeyringError):
            pass
    path = data_dir / FALLBACK
    private_dir(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    tighten(tmp)  # a leftover from a crash keeps its old mode through O_TRUNC
    with os.fdopen(fd, "w") as fh:
        json.dump({"device_id": device_id, "token": token, "invite_key": invite_key_hex}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return str(path)


def load(data_dir: Path, device_id: str) -> DeviceCredentials | None:
    if _usable_keyring():
        try:
            token = keyring.get_password(SERVICE, f"{device_id}/token")
            key = keyring.get_password(SERVICE, f"{device_id}/invite-key")
            if token and key:
                return DeviceCredentials(token, key, "keyring")
        except (KeyringError, NoKeyringError):
            pass
    path = data_dir / FALLBACK
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if data.get("device_id") != device_id:
        return None
    return DeviceCredentials(data["token"], data["invite_key"], str(path))
