"""Step 2 of the house: read a mention's text and say what it is (sentiment, intent, why).

Depends on nothing else of Overheard.
"""

from classifiers.verdict import Classifier, Document, Intent, Sentiment, Verdict

__all__ = ["Classifier", "Document", "Intent", "Sentiment", "Verdict"]
