"""Shared test configuration: pytester for the plugin tests, the numeric engines once."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def engines():
    """PyTorch and JAX, loaded once per test process."""
    from derive.engines import load_engine

    return [load_engine("torch"), load_engine("jax")]
