"""Keras 3 for the dlspec conformance suite: the backends ``keras-jax`` and ``keras-torch``.

A plug-in package: the suite knows it only through the ``dlspec.adapters`` entry points this
package declares (``pyproject.toml``). Importing it imports no framework."""
