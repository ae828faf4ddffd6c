"""The installed distribution's version, recorded in every record's provenance.

Its own module so that the modules which record it import it from here and never from the
package face (``extractor/__init__.py``), which imports them.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("guarantee-extractor")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

__all__ = ["__version__"]
