"""The shipped assets: found in a checkout, in an installed wheel, or where REVIEWER_ASSETS says."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reviewer import assets

ROOT = Path(__file__).resolve().parents[1]


def make_assets(folder: Path) -> Path:
    (folder / assets.MARKER).parent.mkdir(parents=True)
    (folder / assets.MARKER).write_text('"porn"\n', encoding="utf-8")
    return folder


def test_checkout_assets_are_used_in_a_checkout() -> None:
    assert assets.ASSETS == ROOT / "assets"
    assert (assets.ASSETS / "demo" / "demo-synthetic.csv").is_file()


def test_override_then_checkout_then_installed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = make_assets(tmp_path / "prefix" / "share" / "reviewer" / "assets")
    monkeypatch.setattr(assets.sysconfig, "get_path", lambda _name: str(tmp_path / "prefix"))
    monkeypatch.setattr(assets, "CHECKOUT", tmp_path / "no-checkout" / "assets")
    monkeypatch.delenv("REVIEWER_ASSETS", raising=False)
    assert assets.assets_dir() == installed  # a wheel install, no checkout
    monkeypatch.setenv("REVIEWER_ASSETS", str(tmp_path / "empty"))
    assert assets.assets_dir() == installed  # an override without the marker is skipped
    own = make_assets(tmp_path / "site-lists")
    monkeypatch.setenv("REVIEWER_ASSETS", str(own))
    assert assets.assets_dir() == own


def test_nothing_found_falls_back_to_the_checkout_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets, "candidates", lambda: [tmp_path / "a", tmp_path / "b"])
    assert assets.assets_dir() == assets.CHECKOUT


@pytest.mark.slow  # builds the wheel
def test_the_wheel_ships_every_asset(tmp_path: Path) -> None:
    """Built as pip would build it: each file of assets/ is in the wheel's data/share."""
    had_build = (ROOT / "build").exists()
    pip = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*pip, "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if not had_build:  # setuptools leaves build/ in the checkout; stale copies mislead later builds
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("reviewer-*.whl")
    prefix = "share/reviewer/assets/"
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.split(prefix, 1)[1] for name in archive.namelist() if prefix in name
        }
    expected = {
        str(path.relative_to(ROOT / "assets"))
        for path in (ROOT / "assets").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected and shipped == expected
