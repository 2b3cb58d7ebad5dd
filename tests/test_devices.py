"""`rewardkit.devices.resolve_device`: the `device` option every model-based reward shares."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from rewardkit import ConfigError
from rewardkit.devices import resolve_device


def test_auto_picks_the_best_available_device():
    mps = getattr(torch.backends, "mps", None)
    expected = ("cuda" if torch.cuda.is_available()
                else "mps" if mps is not None and mps.is_available() else "cpu")
    assert resolve_device("auto") == expected
    assert resolve_device(" cpu ") == "cpu"


def test_a_bad_device_names_the_owner_and_the_option():
    with pytest.raises(ConfigError) as e:
        resolve_device("gpu0", "reward 'toxicity'")
    assert str(e.value) == ("reward 'toxicity': option 'device': 'gpu0' is not a torch device "
                            "(auto, cpu, cuda, cuda:1, mps)")


def test_cuda_without_cuda_fails_at_config_load():
    if torch.cuda.is_available():
        assert resolve_device("cuda:0") == "cuda:0"
    else:
        with pytest.raises(ConfigError, match=r"^option 'device': 'cuda:0' but CUDA is not available"):
            resolve_device("cuda:0")
