"""Built-in checks. Importing this package registers each of them."""

from . import embedded_labels, metadata  # noqa: F401
