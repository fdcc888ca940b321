"""The spec: one Markdown page per concept and the machine-readable ``catalogue.toml``,
installed as package data of ``dlspec.spec`` so that the tests and reports read the same file."""
