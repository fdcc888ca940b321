"""The NumPy backend's implementations, one module per concept group.

NumPy has no deep-learning functions, so every concept is composed from NumPy operations,
vectorized and dtype-preserving (NumPy >= 2 keeps float32 with Python scalars, NEP 50).
"""
