"""Callback signatures: `sha256=` + base64 HMAC-SHA256 of the raw body with the notification key."""
from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, key: str | bytes) -> str:
    """The `Elements-Webhook-Signature` value for `body`: `sha256=` + base64(HMAC-SHA256(key, body))."""
    k = key.encode("utf-8") if isinstance(key, str) else key
    return PREFIX + base64.b64encode(hmac.new(k, body, hashlib.sha256).digest()).decode("ascii")


def verify_signature(body: bytes, signature: str, key: str | bytes) -> bool:
    """True when `signature` (`sha256=<base64>`) is the HMAC-SHA256 of the raw `body` with `key`.

    The comparison takes constant time; a missing prefix, other text or an empty key is False.
    """
    if not key or not isinstance(signature, str):
        return False
    given = signature.strip()
    if given[:len(PREFIX)].lower() != PREFIX:
        return False
    try:
        given_bytes = (PREFIX + given[len(PREFIX):]).encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sign(body, key).encode("ascii"), given_bytes)
