"""rewardkit annotate: pairing, the labels database, export, agreement and the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rewardkit.annotate import pairing
from rewardkit.annotate.agreement import cohen_kappa, format_stats, stats
from rewardkit.annotate.db import AlreadyLabelled, LabelDB
from rewardkit.annotate.export import preference_rows
from rewardkit.cli import main
from rewardkit.errors import ConfigError, DataError

CHAT_PROMPT = [{"role": "user", "content": "Say hi"}]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    rows = [{"prompt": "q1", "completion": f"answer {i}"} for i in range(4)]          # 6 possible pairs
    rows += [{"prompt": "q2", "completion": "yes"}, {"prompt": "q2", "completion": "no"}]
    rows += [{"prompt": CHAT_PROMPT, "completion": [{"role": "assistant", "content": c}]} for c in ("hi", "hey")]
    rows += [{"prompt": "alone", "completion": "only one"}]
    return write_jsonl(tmp_path / "samples.jsonl", rows)


@pytest.fixture
def db(tmp_path: Path, samples: Path):
    d = LabelDB.create_or_resume(tmp_path / "labels.sqlite", samples, seed=0, pairs_per_prompt=0)
    yield d
    d.close()


# ---- pairing ---------------------------------------------------------------------------------
def test_rows_are_grouped_by_the_json_form_of_the_prompt(tmp_path):
    rows = [
        {"prompt": [{"role": "user", "content": "x"}], "completion": "a"},
        {"prompt": [{"content": "x", "role": "user"}], "completion": "b"},  # same prompt, keys reordered
        {"prompt": "x", "completion": "c"},                                 # plain text is another prompt
        {"prompt": "x", "completion": "c"},                                 # a duplicate answer is dropped
    ]
    groups = pairing.read_groups(write_jsonl(tmp_path / "s.jsonl", rows))
    assert [len(g.completions) for g in groups] == [2, 1]
    assert groups[0].lines == [1, 2]


def test_pairs_are_seeded_and_capped_per_prompt(samples):
    groups = pairing.read_groups(samples)
    every = pairing.choose_pairs(groups, seed=0, per_prompt=0)
    assert len(every) == 6 + 1 + 1
    two = pairing.choose_pairs(groups, seed=0, per_prompt=2)
    assert len(two) == 2 + 1 + 1 and set(two) <= set(every)
    assert two == pairing.choose_pairs(groups, seed=0, per_prompt=2)
    draws = {tuple(pairing.choose_pairs(groups, seed=s, per_prompt=2)) for s in range(10)}
    assert len(draws) > 1  # the seed matters


@pytest.mark.parametrize("row, message", [
    ({"prompt": "p"}, "line 1: row has no 'completion'"),
    ({"prompt": 3, "completion": "c"}, "line 1: 'prompt' must be a string or a list of chat messages"),
    ({"prompt": "p", "completion": [{"role": "assistant"}]}, "'completion' must be a string or a list"),
])
def test_bad_rows_name_the_line(tmp_path, row, message):
    with pytest.raises(DataError, match=message):
        pairing.read_groups(write_jsonl(tmp_path / "s.jsonl", [row]))


# ---- the database ----------------------------------------------------------------------------
def test_labels_survive_a_reopen_and_the_queue_resumes(tmp_path, samples, db):
    first = db.state("ann")
    assert (first["done"], first["total"]) == (0, 8)
    db.record("ann", first["item"]["pair_id"], "left", "clearer")
    second = db.state("ann")
    db.record("ann", second["item"]["pair_id"], "tie")
    expected_next = db.state("ann")["item"]["pair_id"]
    db.close()

    again = LabelDB.create_or_resume(tmp_path / "labels.sqlite", samples)  # same file: resumes
    state = again.state("ann")
    assert (state["done"], state["item"]["pair_id"]) == (2, expected_next)
    labels = again.live_labels("ann")
    assert [(r["choice"], r["reason"]) for r in labels] == [("left", "clearer"), ("tie", "")]
    assert labels[0]["winner_id"] == first["item"]["left"]["id"]
    assert labels[1]["winner_id"] is None
    again.close()


def test_the_sides_shown_are_recorded_and_randomised(db):
    flips = []
    while (item := db.state("ann")["item"]) is not None:
        db.record("ann", item["pair_id"], "right")
        label = db.live_labels("ann")[-1]
        assert (label["left_id"], label["right_id"]) == (item["left"]["id"], item["right"]["id"])
        assert label["winner_id"] == item["right"]["id"]
        flips.append(label["left_id"] != label["a"])
    assert any(flips) and not all(flips)


def test_undo_withdraws_the_last_label_and_keeps_it_on_record(db):
    item = db.state("ann")["item"]
    db.record("ann", item["pair_id"], "skip", "unclear prompt")
    undone = db.undo("ann")
    assert (undone["pair_id"], undone["choice"], undone["reason"]) == (item["pair_id"], "skip", "unclear prompt")
    state = db.state("ann")
    assert (state["done"], state["item"]["pair_id"], state["can_undo"]) == (0, item["pair_id"], False)
    assert db.undo("ann") is None
    with sqlite3.connect(db.path) as conn:  # the withdrawn label is still in the file, marked
        assert conn.execute("SELECT count(*) FROM labels WHERE undone_at IS NOT NULL").fetchone()[0] == 1
    db.record("ann", item["pair_id"], "left")  # and the pair can be labelled again


def test_a_pair_takes_one_live_label_per_annotator(db):
    pid = db.state("ann")["item"]["pair_id"]
    db.record("ann", pid, "left")
    with pytest.raises(AlreadyLabelled):
        db.record("ann", pid, "right")
    db.record("bob", pid, "right")  # another annotator may
    with pytest.raises(KeyError):
        db.record("ann", 999, "left")
    with pytest.raises(ValueError, match="choice must be one of"):
        db.record("ann", pid, "both")


def test_each_annotator_has_a_queue_unless_the_order_is_shared(db):
    def order(who):
        seen = []
        while (item := db.state(who)["item"]) is not None:
            seen.append(item["pair_id"])
            db.record(who, item["pair_id"], "skip")
        return seen

    ann, bob = order("ann"), order("bob")
    assert sorted(ann) == sorted(bob) == list(range(1, 9)) and ann != bob
    db.shared_order = True
    db._queues.clear()
    assert order("cy") == order("dee")


def test_a_database_is_tied_to_its_samples_and_seed(tmp_path, samples, db):
    other = write_jsonl(tmp_path / "other.jsonl", [{"prompt": "p", "completion": c} for c in "ab"])
    with pytest.raises(DataError, match="built from another samples file"):
        LabelDB.create_or_resume(db.path, other)
    with pytest.raises(ConfigError, match="--seed 7: .* was built with seed 0"):
        LabelDB.create_or_resume(db.path, samples, seed=7)


def test_nothing_to_compare_leaves_no_database(tmp_path):
    lonely = write_jsonl(tmp_path / "s.jsonl", [{"prompt": "p", "completion": "a"}, {"prompt": "q", "completion": "b"}])
    with pytest.raises(DataError, match="no prompt has two different completions"):
        LabelDB.create_or_resume(tmp_path / "l.sqlite", lonely)
    assert list(tmp_path.iterdir()) == [lonely]


def test_a_file_that_is_not_a_labels_database_is_refused(tmp_path, samples):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not sqlite at all " * 100)
    with pytest.raises(DataError, match="not a labels database"):
        LabelDB.create_or_resume(junk, samples)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(DataError, match="not made by rewardkit annotate"):
        LabelDB.create_or_resume(foreign, samples)
    with pytest.raises(DataError, match="no such labels database"):
        LabelDB.open(tmp_path / "missing.sqlite")


# ---- export ----------------------------------------------------------------------------------
def test_export_writes_trl_pairs_and_leaves_out_ties_and_skips(tmp_path, db):
    # Label every pair: q2 "yes" wins, the chat pair is a tie, the rest skipped.
    while (item := db.state("ann")["item"]) is not None:
        if item["prompt"] == "q2":
            db.record("ann", item["pair_id"], "left" if item["left"]["completion"] == "yes" else "right")
        elif item["prompt"] == CHAT_PROMPT:
            db.record("ann", item["pair_id"], "tie")
        else:
            db.record("ann", item["pair_id"], "skip")
    rows, counts = preference_rows(db)
    assert rows == [{"prompt": "q2", "chosen": "yes", "rejected": "no"}]
    assert (counts.written, counts.ties, counts.skipped, counts.split) == (1, 1, 6, 0)

    out = tmp_path / "pairs.jsonl"
    assert main(["annotate", "export", "--db", str(db.path), "-o", str(out)]) == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == rows


def test_export_keeps_chat_shapes_and_takes_the_majority(db):
    votes = {"ann": "hi", "bob": "hi", "cy": "hey"}
    for who, winner in votes.items():
        while (item := db.state(who)["item"]) is not None:
            if item["prompt"] == CHAT_PROMPT:
                texts = {item["left"]["completion"][0]["content"]: "left", item["right"]["completion"][0]["content"]: "right"}
                db.record(who, item["pair_id"], texts[winner], f"{who} likes {winner}")
            elif item["prompt"] == "q2":  # a 1-1 split: no majority, left out
                want = {"ann": "yes", "bob": "no"}.get(who)
                db.record(who, item["pair_id"], "skip" if want is None else
                          "left" if item["left"]["completion"] == want else "right")
            else:
                db.record(who, item["pair_id"], "skip")
    rows, counts = preference_rows(db, with_meta=True)
    assert len(rows) == 1 and counts.split == 1
    row = rows[0]
    assert row["prompt"] == CHAT_PROMPT
    assert row["chosen"] == [{"role": "assistant", "content": "hi"}]
    assert row["rejected"] == [{"role": "assistant", "content": "hey"}]
    assert sorted(row["annotators"]) == ["ann", "bob", "cy"] and len(row["reasons"]) == 3
    only_cy, _ = preference_rows(db, annotator="cy")
    assert only_cy[0]["chosen"] == [{"role": "assistant", "content": "hey"}]


def test_a_failed_export_leaves_the_previous_file(tmp_path, db, monkeypatch):
    item = db.state("ann")["item"]
    db.record("ann", item["pair_id"], "left")
    out = tmp_path / "pairs.jsonl"
    out.write_text("previous\n")

    def boom(row):
        raise OSError("disk full")

    monkeypatch.setattr("rewardkit.annotate.export.dump_row", boom)
    with pytest.raises(OSError):
        main(["annotate", "export", "--db", str(db.path), "-o", str(out)])
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".rewardkit-")] == []


# ---- agreement -------------------------------------------------------------------------------
def test_cohen_kappa_by_hand():
    x = ["f", "f", "s", "s", "t", "f"]
    y = ["f", "s", "s", "s", "t", "f"]
    # p_o = 5/6; p_e = (3*2 + 2*3 + 1*1) / 36 = 13/36; kappa = (30 - 13) / (36 - 13)
    assert cohen_kappa(x, y) == pytest.approx(17 / 23)
    assert cohen_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # no variation: undefined, not 1
    assert cohen_kappa([], []) is None


def test_agreement_compares_judgements_not_screen_sides(db, capsys):
    # ann and bob pick the same candidate everywhere, whatever side each saw it on; cy the other.
    def prefer_first(item):
        return "left" if item["left"]["id"] < item["right"]["id"] else "right"

    for who, pick in (("ann", prefer_first), ("bob", prefer_first),
                      ("cy", lambda it: "right" if prefer_first(it) == "left" else "left")):
        while (item := db.state(who)["item"]) is not None:
            db.record(who, item["pair_id"], pick(item))
    data = stats(db)
    by_pair = {(a["first"], a["second"]): a for a in data["agreement"]}
    assert by_pair["ann", "bob"]["overlap"] == 8 and by_pair["ann", "bob"]["agreement"] == 1.0
    assert by_pair["ann", "cy"]["agreement"] == 0.0
    # Everyone picks one category only, so chance agreement is 1 for ann/bob: kappa undefined.
    assert by_pair["ann", "bob"]["kappa"] is None
    assert main(["annotate", "stats", "--db", str(db.path)]) == 0
    out = capsys.readouterr().out
    assert "ann / bob" in out and "kappa" in out
    assert "ann / bob" in format_stats(data)
    assert main(["annotate", "stats", "--db", str(db.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == 8


# ---- command line ----------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["annotate", "export", "--db", "{tmp}/missing.sqlite"], "no such labels database"),
    (["annotate", "stats", "--db", "{tmp}/missing.sqlite"], "no such labels database"),
    (["annotate", "{tmp}/nope.jsonl", "--db", "{tmp}/l.sqlite"], "nope.jsonl: no such samples file"),
    (["annotate", "--db", "{tmp}/l.sqlite"], "no such labels database; pass the samples"),
    (["annotate", "{tmp}/s.jsonl", "--db", "{tmp}/l.sqlite", "-o", "x.jsonl"], "-o/--output applies to `annotate export` only"),
    (["annotate", "stats", "--db", "{tmp}/l.sqlite", "--port", "9"], "--port applies to `annotate SAMPLES.jsonl` only"),
    (["annotate", "{tmp}/s.jsonl", "--db", "{tmp}/l.sqlite", "--annotator", " "], "--annotator ' ': annotator name is empty"),
    (["annotate", "{tmp}/bad.jsonl", "--db", "{tmp}/l.sqlite"], "bad.jsonl, line 2: not valid JSON"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, samples, capsys, argv, message):
    (tmp_path / "s.jsonl").write_text(samples.read_text())
    (tmp_path / "bad.jsonl").write_text('{"prompt": "p", "completion": "c"}\n{oops\n')
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "l.sqlite").exists()


def test_options_may_come_before_the_samples(tmp_path, samples, monkeypatch):
    """`annotate --db X SAMPLES` reaches the server with both parsed (the server itself is faked)."""
    seen = {}

    class FakeServer:
        def __init__(self, config):
            seen["app"] = config.app

        def run(self, sockets):
            seen["host"], seen["port"] = sockets[0].getsockname()[:2]

    # Import it first: a module that subclasses uvicorn.Server while it is faked keeps the fake.
    import rewardkit.serve.server  # noqa: F401

    monkeypatch.setattr("uvicorn.Server", FakeServer)
    db = tmp_path / "l.sqlite"
    assert main(["annotate", "--db", str(db), "--port", "0", "--annotator", "ann", str(samples)]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] > 0 and db.exists()  # loopback only
    assert LabelDB.open(db).total() == 2 + 1 + 1  # default: 2 pairs per prompt


# ---- the loop: labels -> export -> rm train -> the learned reward ------------------------------
@pytest.mark.slow
def test_the_export_trains_a_reward_model(tmp_path):
    """What `annotate export` writes is what `rewardkit rm train` reads, and the model it trains
    scores as a reward: the preferred answer (it says "thanks") above the other."""
    pytest.importorskip("torch", reason="rm train needs rewardkit[train]")
    pytest.importorskip("rewardkit_reward_model", reason="the reward_model plugin is not installed")
    import rewardkit

    rows = []
    for i in range(16):
        prompt = f"question {i}" if i % 2 else [{"role": "user", "content": f"question {i}"}]
        for text in (f"here you go thanks {i}", f"here you go {i}"):
            rows.append({"prompt": prompt, "completion": text if i % 2 else [{"role": "assistant", "content": text}]})
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    db = LabelDB.create_or_resume(tmp_path / "labels.sqlite", samples)
    while (item := db.state("ann")["item"]) is not None:  # a careful annotator: thanks wins
        left = json.dumps(item["left"]["completion"])
        db.record("ann", item["pair_id"], "left" if "thanks" in left else "right")
    db.close()
    pairs = tmp_path / "pairs.jsonl"
    assert main(["annotate", "export", "--db", str(tmp_path / "labels.sqlite"), "-o", str(pairs)]) == 0
    assert all("thanks" in json.dumps(json.loads(line)["chosen"]) for line in pairs.read_text().splitlines())

    (tmp_path / "rm.yaml").write_text(
        "model: {from_config: {arch: bert, tokenizer: word, hidden_size: 16, num_layers: 1, num_heads: 2}}\n"
        "data: pairs.jsonl\neval_split: 0.0\noutput_dir: rm\nmax_length: 32\n"
        "learning_rate: 0.02\nnum_train_epochs: 4\nbatch_size: 16\nseed: 0\n")
    assert main(["rm", "train", str(tmp_path / "rm.yaml")]) == 0
    reward = rewardkit.load({"rewards": [{"use": "reward_model", "with": {"model": str(tmp_path / "rm"), "max_length": 32}}]})
    good, bad = reward(prompts=["question 99"] * 2, completions=["here you go thanks 99", "here you go 99"])
    assert good > bad
