"""Extract security-guarantee proposals from news articles as grounded, validated records."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("guarantee-extractor")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
