"""The wheel: every module, spec page, catalogue file and the report schema."""

import pytest
from helpers import TESTS

pytestmark = pytest.mark.meta


def test_the_wheel_carries_every_module_spec_page_and_the_catalogue(tmp_path):
    """A non-editable install must work: the wheel holds every source module, every spec page,
    the catalogue and the report schema, and building it raises no packaging warning."""
    import subprocess
    import sys
    import zipfile

    root = TESTS.parent
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v"]
    built = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path), str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "is absent from the `packages` configuration" not in built.stdout + built.stderr
    (wheel,) = tmp_path.glob("dlspec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    folders = {"dlspec": "dlspec", "reference": "dlspec/reference", "adapters": "dlspec/adapters"}
    wanted = {
        f"{installed}/{path.relative_to(root / source).as_posix()}"
        for source, installed in folders.items()
        for path in (root / source).rglob("*.py")
    }
    wanted |= {
        f"dlspec/spec/{p.relative_to(root / 'spec').as_posix()}"
        for p in (root / "spec").rglob("*.md")
    }
    wanted |= {
        f"dlspec/spec/catalogue/{p.name}" for p in (root / "spec" / "catalogue").glob("*.toml")
    }
    wanted |= {"dlspec/spec/catalogue/groups.toml", "dlspec/report/schema.json"}
    assert not wanted - names, sorted(wanted - names)
