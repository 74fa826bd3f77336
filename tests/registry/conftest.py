import pytest

from ringrift.registry import ModelRegistry
from tests.registry.registry_helpers import FIELDS, make_model


@pytest.fixture
def registry(tmp_path):
    with ModelRegistry(tmp_path / "models" / "registry.db") as reg:
        yield reg


@pytest.fixture
def add(registry, tmp_path):
    """Register a fresh fake model file; keyword arguments override the default fields."""
    counter = iter(range(10_000))

    def add(name="sq8", **overrides):
        path = make_model(tmp_path / "models", f"m{next(counter)}.pt")
        return registry.register(path, name, **{**FIELDS, **overrides}).entry

    return add
