"""rewardkit.ModelReward: one load per key per process, one error, pickles without the model."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import rewardkit
from rewardkit.model_reward import ModelCache, length_sorted_batches, padded_batches

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


class Model:
    """A stand-in model: it remembers what it was loaded from."""

    def __init__(self, key):
        self.key = key


class Doubling(rewardkit.ModelReward):
    name = "doubling"
    source: str = "a"
    fail: bool = False
    delay: float = 0.0

    def model_key(self):
        return None if self.source == "none" else (self.source, self.fail)

    def load_model(self, key):
        time.sleep(self.delay)  # a slow load: threads that ask meanwhile must wait, not load again
        if self.fail:
            raise rewardkit.ModelLoadError("source", f"cannot load {key[0]!r}")
        return Model(key)

    def score(self, prompts, completions, **columns):
        return [2.0 * len(c) for c in completions]


class Other(Doubling):
    name = "other"


@pytest.fixture(autouse=True)
def empty_caches():
    Doubling.cache.clear()
    Other.cache.clear()


def test_equal_keys_share_one_load_even_across_threads():
    before = Doubling.cache.loads
    got: list[Doubling] = []
    threads = [threading.Thread(target=lambda: got.append(Doubling(delay=0.05))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Doubling.cache.loads - before == 1
    assert len({id(r.loaded) for r in got}) == 1 and got[0].loaded.key == ("a", False)
    assert Doubling(source="b").loaded is not got[0].loaded  # another key, another load
    assert Doubling.cache.loads - before == 2


def test_each_class_has_its_own_cache():
    assert Doubling.cache is not Other.cache and "cache" in Other.__dict__
    assert Doubling().loaded is not Other().loaded


def test_a_failed_load_names_reward_and_option_and_is_not_cached():
    for _ in range(2):
        with pytest.raises(rewardkit.ConfigError, match=r"^reward 'doubling': option 'source': cannot load 'a'$"):
            Doubling(fail=True)
    assert len(Doubling.cache) == 0
    assert issubclass(rewardkit.ModelLoadError, rewardkit.ConfigError)


def test_pickles_without_the_model_and_takes_it_back_from_the_cache():
    r = Doubling()
    clone = pickle.loads(pickle.dumps(r))
    assert clone.__dict__["_loaded"] is None  # the model did not travel
    assert clone.options == r.options and clone.score(["p"], ["ab"]) == [4.0]
    assert clone.loaded is r.loaded and Doubling.cache.loads >= 1


def test_no_key_means_no_model():
    r = Doubling(source="none")
    assert len(Doubling.cache) == 0
    with pytest.raises(RuntimeError, match="no model"):
        _ = r.loaded


def test_batch_size_is_an_option():
    assert Doubling(batch_size="4").batch_size == 4
    with pytest.raises(rewardkit.ConfigError, match="batch_size"):
        Doubling(batch_size=0)


def test_length_sorted_batches_longest_first_ties_in_input_order():
    assert list(length_sorted_batches([1, 5, 3, 5, 2], 2)) == [[1, 3], [2, 4], [0]]
    assert list(length_sorted_batches([], 3)) == []
    with pytest.raises(ValueError, match="batch_size"):
        list(length_sorted_batches([1], 0))


def test_padded_batches_pad_each_batch_to_its_own_longest_row():
    class Tokenizer:  # the part of a Hugging Face tokenizer padded_batches uses
        def pad(self, encoding, return_tensors):
            width = max(len(ids) for ids in encoding["input_ids"])
            return {k: [row + [0] * (width - len(row)) for row in rows] for k, rows in encoding.items()}

    enc = {"input_ids": [[1], [1, 2, 3], [1, 2], [1, 2, 3, 4]], "attention_mask": [[1], [1] * 3, [1] * 2, [1] * 4]}
    got = list(padded_batches(Tokenizer(), enc, 2))
    assert [idx for idx, _ in got] == [[3, 1], [2, 0]]
    assert got[1][1] == {"input_ids": [[1, 2], [1, 0]], "attention_mask": [[1, 1], [1, 0]]}


def test_cache_counts_and_clears():
    cache = ModelCache()
    assert cache.get("k", lambda k: [k]) is cache.get("k", lambda k: pytest.fail("loaded twice"))
    assert (cache.loads, len(cache)) == (1, 1)
    cache.clear()
    assert len(cache) == 0


def test_the_docs_example_runs(tmp_path):
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Model-based rewards"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"reward 'lexicon': option 'path': cannot read '.*missing\.json' \(FileNotFoundError\)\n",
                        done.stdout), done.stdout
