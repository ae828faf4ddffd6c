"""Extract security-guarantee proposals from news articles as grounded, validated records."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

try:
    __version__ = metadata.version("guarantee-extractor")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

# The wheel installs schemas/ and prompts/ inside this package (see pyproject.toml). A checkout
# imported straight from its root (python -m extractor, a notebook) has them beside the package:
# let the subpackages resolve there too.
_checkout = Path(__file__).resolve().parent.parent
if (_checkout / "schemas" / "__init__.py").is_file() and str(_checkout) not in __path__:
    __path__.append(str(_checkout))
