"""The labelling page's HTTP API, through Starlette's test client (no browser, no socket)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
from starlette.testclient import TestClient

from rewardkit.annotate.app import create_app
from rewardkit.annotate.db import LabelDB


@pytest.fixture
def client(tmp_path: Path):
    rows = [{"prompt": "q", "completion": c} for c in ("a", "b", "c")]
    samples = tmp_path / "s.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = LabelDB.create_or_resume(tmp_path / "l.sqlite", samples, pairs_per_prompt=0)
    with TestClient(create_app(db, "ann", "l.sqlite"), base_url="http://127.0.0.1:8765") as c:
        yield c
    db.close()


def post(client, path, body):
    return client.post(path, json=body)


def test_the_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "rewardkit" in page.text
    for asset in ("/static/app.js", "/static/render.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
        assert asset in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert client.get("/api/config").json()["default_annotator"] == "ann"


def test_label_then_undo(client):
    state = client.get("/api/state", params={"annotator": "ann"}).json()
    assert (state["done"], state["total"], state["can_undo"]) == (0, 3, False)
    pid = state["item"]["pair_id"]
    r = post(client, "/api/label", {"annotator": "ann", "pair_id": pid, "choice": "left",
                                    "reason": "  terser  ", "seconds": 3.5})
    assert r.status_code == 200
    after = r.json()
    assert (after["done"], after["can_undo"]) == (1, True) and after["item"]["pair_id"] != pid
    again = post(client, "/api/label", {"annotator": "ann", "pair_id": pid, "choice": "right"})
    assert again.status_code == 409 and again.json()["item"]["pair_id"] == after["item"]["pair_id"]
    undone = post(client, "/api/undo", {"annotator": "ann"}).json()
    assert undone["undone"]["reason"] == "terser" and undone["item"]["pair_id"] == pid
    assert client.get("/api/state", params={"annotator": "bob"}).json()["done"] == 0


@pytest.mark.parametrize("body, status, message", [
    ({"annotator": "ann", "pair_id": 1, "choice": "maybe"}, 400, "choice must be one of"),
    ({"annotator": "ann", "pair_id": "1", "choice": "left"}, 400, "pair_id must be an integer"),
    ({"annotator": "", "pair_id": 1, "choice": "left"}, 400, "annotator name is empty"),
    ({"annotator": "ann", "pair_id": 99, "choice": "left"}, 404, "no pair 99"),
    ({"annotator": "ann", "pair_id": 1, "choice": "left", "reason": 5}, 400, "reason must be text"),
    ([1, 2], 400, "body must be a JSON object"),
])
def test_malformed_labels_get_a_4xx_with_a_reason(client, body, status, message):
    r = post(client, "/api/label", body)
    assert r.status_code == status and message in r.json()["error"]


def test_cross_site_writes_and_foreign_hosts_are_refused(client):
    # A form post from another site cannot set application/json without a CORS preflight.
    r = client.post("/api/label", content='{"annotator": "ann", "pair_id": 1, "choice": "left"}',
                    headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host header.
    assert client.get("/api/state", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/state", params={"annotator": "ann"}).json()["done"] == 0
