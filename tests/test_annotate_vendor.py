"""The annotation page's vendored libraries: pinned by sha256, licensed, served from the package."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "rewardkit" / "annotate" / "static"
VENDOR = STATIC / "vendor"
ROW = re.compile(r"^\| `([^`]+)` \| ([\w.-]+) \| ([\d.]+) \| `[^`]+` \| ([^|]+) \| ([0-9a-f]{64}) \|$", re.MULTILINE)


def table() -> list[tuple[str, str, str, str, str]]:
    return ROW.findall((VENDOR / "VENDORED.md").read_text(encoding="utf-8"))


def vendored_files() -> set[str]:
    return {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*")
            if p.is_file() and p.name != "VENDORED.md" and p.parent.name != "licenses"}


def test_every_vendored_file_is_listed_with_its_sha256():
    rows = table()
    assert {r[0] for r in rows} == vendored_files() and len(rows) == len(vendored_files())
    for name, _, _, _, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_every_package_has_its_licence_text():
    for package in {r[1] for r in table()}:
        licences = list((VENDOR / "licenses").glob(f"{package}.LICENSE*"))
        assert licences and all(p.stat().st_size > 500 for p in licences), package


def test_the_page_loads_nothing_from_elsewhere():
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    assert {"/static/vendor/markdown-it.min.js", "/static/vendor/purify.min.js",
            "/static/vendor/katex.min.js", "/static/vendor/katex.min.css"} <= set(refs)
    for css in STATIC.rglob("*.css"):
        urls = re.findall(r"url\(([^)]+)\)", css.read_text(encoding="utf-8"))
        assert not [u for u in urls if "//" in u], css
    # KaTeX's CSS names woff2, woff and ttf; the browser takes the first, woff2, which is here.
    fonts = re.findall(r"url\((fonts/[^)]+\.woff2)\)", (VENDOR / "katex.min.css").read_text(encoding="utf-8"))
    assert fonts and all((VENDOR / f).is_file() for f in fonts)


@pytest.mark.slow
def test_the_wheel_carries_the_vendor_folder(tmp_path):
    root, src = STATIC.parents[2], tmp_path / "src"  # a copy: the build writes build/ beside it
    shutil.copytree(root / "rewardkit", src / "rewardkit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(root / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(src)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("rewardkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "rewardkit/annotate/static/vendor/"
    expected = {prefix + f for f in vendored_files()} | {prefix + "VENDORED.md"}
    expected |= {prefix + "licenses/" + p.name for p in (VENDOR / "licenses").iterdir()}
    assert expected <= names, sorted(expected - names)
