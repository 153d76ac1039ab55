"""The join link as a QR code, drawn locally with segno (no network)."""

from __future__ import annotations

import io

import segno


def qr_png(url: str, scale: int = 8) -> bytes:
    """A PNG of `url` as a QR code (error correction M, a 2-module quiet border).

    >>> qr_png("http://localhost:8501/class?join=KXM47R")[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2, dark="#111", light="#fff")
    return buffer.getvalue()
