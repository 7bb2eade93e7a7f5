"""TOTP secrets at rest: sealed with AES-GCM under a key derived from HQ's master key.

A stored secret is ``v1:`` + base64(nonce ‖ ciphertext ‖ tag). The key is HKDF-SHA256 of the
master key for the purpose ``posapp console totp`` (the invite keys come from the same master
key for another purpose, so neither can be worked out from the other), and the owner's
console user id is the associated data: a sealed secret copied onto another account does
not open. A value without the prefix is a secret stored before sealing (HQ before hq0012):
it is read as it is, once, and sealed again when it is next used.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PURPOSE = b"posapp console totp"
VERSION = "v1:"
_NONCE = 12


class Unreadable(Exception):
    """A sealed secret this HQ cannot open: another master key, or a damaged value."""


def _aead(master_key: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(master_key)
    return AESGCM(key)


def is_sealed(stored: str) -> bool:
    return stored.startswith(VERSION)


def seal(master_key: bytes, secret: str, *, owner: str) -> str:
    nonce = os.urandom(_NONCE)
    box = _aead(master_key).encrypt(nonce, secret.encode("ascii"), owner.encode())
    return VERSION + base64.b64encode(nonce + box).decode("ascii")


def unseal(master_key: bytes, stored: str, *, owner: str) -> str:
    """The secret (a legacy unsealed value as it is), or ``Unreadable``."""
    if not is_sealed(stored):
        return stored
    try:
        raw = base64.b64decode(stored[len(VERSION) :], validate=True)
        plain = _aead(master_key).decrypt(raw[:_NONCE], raw[_NONCE:], owner.encode())
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise Unreadable("the TOTP secret does not open with this HQ's master key") from exc
    return plain.decode("ascii")
