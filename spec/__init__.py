"""The spec: one Markdown page per concept and the machine-readable catalogue (``catalogue/``, a
TOML file per concept group), installed as package data of ``dlspec.spec`` so that the tests and
reports read the same files."""
