"""The toxicity reward on a tiny Detoxify checkpoint built here, loaded through Detoxify's code."""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from typing import Any, ClassVar

import pytest
import torch
from rewardkit_toxicity import Toxicity, models
from rewardkit_toxicity.tiny import build_checkpoint

import rewardkit
from rewardkit import ConfigError
from rewardkit.testing import RewardContract

torch.set_num_threads(1)

TEXTS = [
    "you are a nice person",
    "I hate you , you stupid idiot",
    "thank you for the help",
    "shut up",
    "what an awful terrible day , go away please and stop this",
    "",
]


@cache
def tiny_checkpoint() -> tuple[str, str]:
    """One tiny checkpoint per test process (built in ~1 s), removed at exit."""
    folder = tempfile.mkdtemp(prefix="rk-toxicity-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    ckpt, hf = build_checkpoint(folder)
    return str(ckpt), str(hf)


def tiny_options(**extra) -> dict:
    ckpt, hf = tiny_checkpoint()
    return {"checkpoint": ckpt, "huggingface_config_path": hf, **extra}


def detoxify_predict(texts: list[str]) -> dict[str, list[float]]:
    from detoxify import Detoxify

    ckpt, hf = tiny_checkpoint()
    return Detoxify(checkpoint=ckpt, huggingface_config_path=hf).predict(texts)


class TestToxicityContract(RewardContract):
    reward_class = Toxicity
    registered_name = "toxicity"
    examples: ClassVar[Any] = [{"prompt": "p", "completion": t} for t in TEXTS[:4]]

    @property
    def options(self):  # the checkpoint is built at test time, so not a class constant
        return tiny_options(batch_size=3)


def test_scores_equal_detoxify_predict():
    want = detoxify_predict(TEXTS)
    got = Toxicity(**tiny_options(batch_size=4)).score([""] * len(TEXTS), TEXTS)
    assert got == pytest.approx(want["toxicity"], abs=1e-5)
    # the tiny model must give distinct scores, or this test would prove little
    assert max(got) - min(got) > 0.05


def test_labels_and_combine_match_detoxify():
    want = detoxify_predict(TEXTS)
    labels = ["insult", "threat", "obscene"]
    per_text = list(zip(*(want[lab] for lab in labels)))
    top = Toxicity(**tiny_options(labels=labels, combine="max")).score([], TEXTS)
    mean = Toxicity(**tiny_options(labels=labels, combine="mean")).score([], TEXTS)
    assert top == pytest.approx([max(v) for v in per_text], abs=1e-5)
    assert mean == pytest.approx([sum(v) / 3 for v in per_text], abs=1e-5)
    every = Toxicity(**tiny_options(labels="all")).score([], TEXTS)
    assert every == pytest.approx([max(v) for v in zip(*want.values())], abs=1e-5)


def test_batch_size_and_order_do_not_change_scores():
    one = Toxicity(**tiny_options(batch_size=1)).score([], TEXTS)
    many = Toxicity(**tiny_options(batch_size=64)).score([], TEXTS)
    rev = Toxicity(**tiny_options(batch_size=2)).score([], TEXTS[::-1])
    assert one == pytest.approx(many, abs=1e-5)
    assert rev[::-1] == pytest.approx(many, abs=1e-5)


def test_one_model_load_shared_by_every_composite():
    config = {"rewards": [{"use": "toxicity", "weight": -1.0, "with": tiny_options()}]}
    before = models.load_count
    a, b = rewardkit.load(config), rewardkit.load(config)
    c = Toxicity(**tiny_options(labels=["insult"], batch_size=2))  # other scoring options, same model
    assert a["toxicity"].reward._loaded is b["toxicity"].reward._loaded is c._loaded
    assert models.load_count - before <= 1  # 0 when an earlier test loaded it already
    want = detoxify_predict(TEXTS[:3])["toxicity"]
    assert a(prompts=["p"] * 3, completions=TEXTS[:3]) == pytest.approx([-w for w in want], abs=1e-5)


def test_pickle_drops_the_model_and_takes_it_back_from_the_cache():
    r = Toxicity(**tiny_options())
    blob = pickle.dumps(r)
    assert len(blob) < 5_000  # the weights are not in the pickle
    clone = pickle.loads(blob)
    assert clone.loaded is r.loaded  # taken from the process cache when the copy first needs it


def test_real_checkpoint_layout_loads_offline(tmp_path, monkeypatch):
    # A real checkpoint names a hub model ("bert-base-uncased"); offline, Detoxify itself fails on
    # it even with huggingface_config_path. The plugin loads it from the local folder.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ckpt, hf = build_checkpoint(tmp_path, model_type="bert-base-uncased")
    got = Toxicity(checkpoint=str(ckpt), huggingface_config_path=str(hf)).score([], TEXTS)
    assert got == pytest.approx(Toxicity(**tiny_options()).score([], TEXTS), abs=1e-5)


def test_default_model_without_network_fails_at_config_load_naming_checkpoint(tmp_path, monkeypatch):
    # An empty torch hub cache and the offline switch: no download is attempted.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not os.path.exists(models.default_checkpoint_file("original"))
    with pytest.raises(ConfigError) as e:
        rewardkit.load({"rewards": [{"use": "toxicity", "weight": -1.0}]})
    msg = str(e.value)
    assert "\n" not in msg and "option 'checkpoint'" in msg and "original" in msg


@pytest.mark.parametrize("options, needle", [
    ({"checkpoint": "/no/such/file.ckpt"}, "option 'checkpoint'"),
    ({"huggingface_config_path": "/no/such/folder"}, "option 'huggingface_config_path'"),
    ({"labels": ["toxic_ish"]}, "option 'labels': 'toxic_ish'"),
    ({"labels": []}, "option 'labels'"),
    ({"combine": "median"}, "combine"),
    ({"device": "gpu0"}, "option 'device'"),
    ({"batch_size": 0}, "batch_size"),
    ({"model_type": "huge"}, "model_type"),
])
def test_bad_options_fail_at_config_load_in_one_line(options, needle):
    with pytest.raises(ConfigError) as e:
        Toxicity(**{**tiny_options(), **options})
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_not_a_detoxify_checkpoint(tmp_path):
    bad = tmp_path / "bad.ckpt"
    torch.save({"state_dict": {}}, bad)
    with pytest.raises(ConfigError, match="option 'checkpoint'.*not a Detoxify checkpoint"):
        Toxicity(checkpoint=str(bad), huggingface_config_path=tiny_checkpoint()[1])


def test_plugin_import_stays_light():
    # `rewardkit plugins` imports every plugin: torch/detoxify must load only in setup().
    code = "import sys, rewardkit_toxicity; print('torch' in sys.modules, 'detoxify' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_batches_are_sorted_longest_first():
    r = Toxicity(**tiny_options(batch_size=2))
    seen: list[list[int]] = []  # the real token count of each row, per forward pass

    def spy(module, args, kwargs):
        seen.append(kwargs["attention_mask"].sum(dim=1).tolist())

    handle = r._loaded.model.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        r.score([], TEXTS)
    finally:
        handle.remove()
    assert [len(b) for b in seen] == [2, 2, 2]
    flat = [n for b in seen for n in b]
    assert flat == sorted(flat, reverse=True) and flat[0] > flat[-1]


def test_failed_download_fails_at_config_load_naming_checkpoint(tmp_path, monkeypatch):
    # Network off without the offline switch: the download raises; the user sees one line.
    import urllib.error

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    with pytest.raises(ConfigError) as e:
        rewardkit.load({"rewards": [{"use": "toxicity", "weight": -1.0, "with": {"model_type": "unbiased"}}]})
    msg = str(e.value)
    assert "\n" not in msg and "option 'checkpoint'" in msg and "unbiased" in msg and "URLError" in msg
