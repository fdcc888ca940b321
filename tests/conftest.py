"""The suite's own fixtures: pytester for the meta-tests that run the suite on mutant adapters."""

pytest_plugins = ["pytester"]
