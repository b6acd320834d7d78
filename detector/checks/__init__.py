"""Built-in checks. Importing this package registers each of them."""

from . import c2pa, embedded_labels, metadata  # noqa: F401
