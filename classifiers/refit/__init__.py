"""Scripts that rebuild ``classifiers/artifacts`` from the shared data; run as ``python -m classifiers.training.<name>``."""
