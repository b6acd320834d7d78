"""Training tests need PyTorch and timm (the train extra): skipped without them, except in CI."""

import os

import pytest


def require_torch():
    try:
        import timm  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyTorch and timm are missing (make test installs the train extra)")
        pytest.skip("PyTorch and timm are not installed (pip install '.[train]')")
