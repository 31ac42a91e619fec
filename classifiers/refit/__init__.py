"""The head refit ``overheard train`` runs (``retrain``) and what it reads: the labeled data (``data``,
``intent_sources``), the artifact files (``artifacts``), pooled features and temperature calibration.

The scripts that train the encoder and research the recipe live in the top-level ``training/`` folder, which is
not installed: ``python -m training.<name>`` from a clone."""
