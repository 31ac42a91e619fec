"""Training and research scripts: they rebuild ``classifiers/artifacts`` and ``classifiers/data`` from a clone.

Not installed (``pyproject.toml`` packages only the runtime); run from the repository root as
``python -m training.<name>`` (see each module's docstring and ``classifiers/artifacts/MODEL_CARD.md``). What a
deployment needs to refit its heads from triage corrections (``overheard train``) stays in ``classifiers.refit``.
"""
