import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny test models gain nothing from threads, and a busy 2-core machine makes them slower.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
