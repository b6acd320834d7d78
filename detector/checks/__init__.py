"""Built-in checks. Importing this package registers each of them."""

from . import c2pa, embedded_labels, invisible_watermark, metadata  # noqa: F401
