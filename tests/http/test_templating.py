"""The dashboard's templates and assets ship with the package (the container installs it non-editable)."""

import subprocess
import sys
from pathlib import Path

from hub.http.templating import FRONTEND_DIR

ROOT = Path(__file__).resolve().parents[2]


def test_package__every_template_and_asset_is_built_next_to_hub(tmp_path):
    built = tmp_path / "lib"
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "-d", str(built)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    wanted = {path.relative_to(ROOT) for path in FRONTEND_DIR.rglob("*") if path.is_file()}
    shipped = {path.relative_to(built) for path in (built / "frontend").rglob("*") if path.is_file()}
    assert wanted - shipped == set()
    assert (built / "hub" / "http" / "templating.py").exists()  # so FRONTEND_DIR resolves the same there
