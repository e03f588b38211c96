"""The layers hold: the import contract (pyproject.toml, import-linter) is kept, a back-arrow breaks
it, and the wheel holds the product without the sandbox."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kernel", "scrapers", "transforms", "models", "newsetl", "sandbox")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _copy_tree(target: Path) -> None:
    """The packages' Python files and the project files the checks read, into ``target``."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.json"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, target / name)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


def test_the_layers_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_stage_importing_the_orchestration_breaks_the_contract(tmp_path):
    _copy_tree(tmp_path)
    extract = tmp_path / "transforms" / "extract.py"
    extract.write_text(extract.read_text(encoding="utf-8") + "\nfrom newsetl import pipeline  # noqa\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "0 kept, 1 broken" in result.stdout
    assert "transforms.extract -> newsetl.pipeline" in result.stdout


def test_one_stage_importing_another_breaks_the_contract(tmp_path):
    _copy_tree(tmp_path)
    warehouse = tmp_path / "models" / "warehouse.py"
    warehouse.write_text(warehouse.read_text(encoding="utf-8") + "\nimport transforms.boilerplate  # noqa\n",
                         encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0 and "models.warehouse -> transforms.boilerplate" in result.stdout


def test_the_wheel_holds_the_product_and_not_the_sandbox(tmp_path):
    _copy_tree(tmp_path / "src")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path / "dist"), str(tmp_path / "src")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("news_etl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for part in ("kernel/registry.py", "kernel/outlets/slobodenpecat.toml", "scrapers/spider.py",
                 "transforms/article.py", "models/migrations/versions/0001_first_schema.py", "newsetl/cli.py"):
        assert part in names, part
    assert not [name for name in names if name.startswith("sandbox/") or "fixture_sites" in name]
