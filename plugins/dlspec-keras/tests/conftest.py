"""The plug-in's own tests: pytester, for the runs of the suite's conformance tests on the Keras
mutants (``keras_mutants.py``)."""

pytest_plugins = ["pytester"]
