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


PLUGIN_NAMES = ("dlspec_keras", "dlspec-keras", "keras-jax", "keras-torch")
"""What would tie the suite to its Keras plug-in: its package and its backends' names."""


def test_the_suite_names_no_plugin():
    """The Keras adapters are a third-party package the suite finds only through its entry
    points: nothing under dlspec/, adapters/, reference/ or spec/ imports or names it."""
    root = TESTS.parent
    naming = [
        f"{path.relative_to(root)}: {name}"
        for folder in ("dlspec", "adapters", "reference", "spec")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file() and path.suffix in (".py", ".toml", ".md", ".json")
        for name in PLUGIN_NAMES
        if name in path.read_text(encoding="utf-8")
    ]
    assert not naming, naming


def test_the_plugin_is_found_through_its_entry_points_only():
    """Installed (``make`` does), the plug-in's two backends are listed by the suite's registry
    from the ``dlspec.adapters`` group, and its catalogue additions come through
    ``dlspec.catalogue``."""
    from importlib.metadata import entry_points

    adapters = {e.name: e.value for e in entry_points(group="dlspec.adapters")}
    if "keras-jax" not in adapters:
        pytest.skip("dlspec-keras is not installed (pip install -e plugins/dlspec-keras)")
    assert adapters["keras-jax"] == "dlspec_keras.adapter:KerasJaxAdapter"
    assert adapters["keras-torch"] == "dlspec_keras.adapter:KerasTorchAdapter"
    catalogues = {e.name: e.value for e in entry_points(group="dlspec.catalogue")}
    assert catalogues.get("keras") == "dlspec_keras.catalogue"
