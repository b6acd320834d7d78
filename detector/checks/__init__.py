"""Built-in checks. Importing this package registers each of them."""

from . import (  # noqa: F401
    c2pa,
    classifier,
    embedded_labels,
    faces,
    fingerprint,
    invisible_watermark,
    metadata,
    visible_watermark,
)
