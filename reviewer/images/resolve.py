"""Finding and decoding a sample's image (CONTRACT; the ingest work completes it).

``samples.image_ref`` is ``"<root_id>:<member>"`` where ``image_roots.root_id``
names a folder (kind ``dir``; member is a relative path inside it) or a
webdataset tar shard (kind ``tar``; member is the tar member name). A NULL
``image_ref`` with a ``url`` means the image is fetched on demand into
``cache/images/`` (sampled items only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from reviewer.errors import ImageUnavailableError

if TYPE_CHECKING:
    from reviewer.audit import Audit


def load_image(audit: Audit, sample: dict[str, Any]) -> Image.Image:
    """Decode the sample's image, fully loaded, in RGB.

    Raises:
        ImageUnavailableError: with a short ``reason`` for the reviewer
            ("no image", "404", "timeout", "not an image", "too large", "outside its root").
    """
    raise ImageUnavailableError("no image")
