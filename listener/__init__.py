"""Step 1 of the house: collect public mentions from social platforms, feeds and review pages.

Depends on nothing else of Overheard. Every source is a `Collector` that yields `Page`s of `Mention`s.
"""

from listener.base import BuildContext, Collector, Page, Rejected, SourceBase, SourceError, SourceNotAvailable
from listener.mention import Author, Engagement, Mention, Platform

__all__ = [
    "Author",
    "BuildContext",
    "Collector",
    "Engagement",
    "Mention",
    "Page",
    "Platform",
    "Rejected",
    "SourceBase",
    "SourceError",
    "SourceNotAvailable",
]
