"""Where the shipped assets live: the checkout's ``assets/`` or an installed copy.

The repository keeps ``assets/`` (keyword lists, prompt sets, the demo) at its top
level. A wheel installs the same files under ``<prefix>/share/reviewer/assets``
(``[tool.setuptools.data-files]`` in ``pyproject.toml``), so ``pip install .`` or a
published wheel finds its default keyword list and demo without a checkout.
``REVIEWER_ASSETS`` overrides both, e.g. for a site's own curated lists.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from pathlib import Path

MARKER = Path("keywords") / "laion400m_2021.txt"
"""A file every complete assets folder has; a folder without it is not ours."""

CHECKOUT = Path(__file__).resolve().parents[1] / "assets"


def candidates() -> list[Path]:
    """Folders to look in, best first: override, checkout, this prefix, the user base."""
    found = [Path(os.environ["REVIEWER_ASSETS"])] if os.environ.get("REVIEWER_ASSETS") else []
    found.append(CHECKOUT)
    prefixes = [sysconfig.get_path("data"), sys.prefix, site.getuserbase()]
    found += [Path(prefix) / "share" / "reviewer" / "assets" for prefix in prefixes if prefix]
    return found


def assets_dir() -> Path:
    """The first candidate holding the shipped assets, else the checkout path.

    Falling back to the checkout path (which may not exist) keeps module imports
    cheap and safe; whoever reads a file from it reports the missing path.
    """
    for folder in candidates():
        if (folder / MARKER).is_file():
            return folder
    return CHECKOUT


ASSETS = assets_dir()
