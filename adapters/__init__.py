"""dlspec adapters: one per backend, each a thin table from concept id to a framework call.

Installed as ``dlspec.adapters``. Importing this package imports no framework.
"""

from .base import Adapter, Backend, FrameworkDefault, Limit

__all__ = ["Adapter", "Backend", "FrameworkDefault", "Limit"]
