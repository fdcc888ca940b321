"""The Keras backends' additions to the dlspec catalogue (the ``dlspec.catalogue`` entry point):
their divergences, and the written-up divergences of JAX and PyTorch kernels they share."""
