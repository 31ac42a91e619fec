"""Every reporting metric, computed from stored mentions in SQL that runs on SQLite and PostgreSQL.

One module per job: `results` (the read models, CSV/JSON rows), `scope` (which mentions count), `rollups`
(the per-database rollup SQL), `reach` (KPIs, reach, top authors and sources), `series` (time-zone
bucketing), `share_of_voice`, `terms` (the tokenizer), `campaigns`, `reviews`, `alerts` (the alerts'
inputs). Import from here: `from storage import metrics`.

The API, the dashboard, the CLI report and the CSV/JSON exports all call these functions, so a number
means the same thing everywhere. Definitions:

- a mention is *in a period* when `start <= created_at < end`; a brand scope (`brand="Lumora"`) keeps
  mentions whose `matched_queries` hold `brand:Lumora` (any query name with a ':' is used as given); a
  language scope (`language="de"`, ISO 639-1) keeps mentions whose language is that one (detected offline when
  the platform did not say; a mention whose language is unknown is in no language's scope). Every figure
  takes both; the rollups are per brand scope, so a language's figures are read from the mentions;
- **potential reach** is the sum, over the *distinct* authors (source, handle) of the mentions, of each
  author's largest follower count reported in the period. It is potential: followers who could have seen
  it, not people who did. Authors whose platform reports no follower count add nothing;
- **impressions** are summed only over mentions whose platform reports them (`impressions_reported`
  says how many did); they are never estimated;
- **engagement** is likes + reposts + replies + quotes (unknown counts as 0; Reddit/HN score is not
  engagement). **Engagement rate** = engagement / potential reach;
- a mention's sentiment is the person's relabel when there is one, else the classifier's;
  **net sentiment** = (positive − negative) / classified mentions, from −1 to +1;
- **share of voice** compares `brand:*` and `competitor:*` queries: each one's mentions (or potential
  reach) over the sum across all of them in the period;
- **period-over-period change** compares with the period of the same length just before, and is shown only
  where that period has data (`comparison`: collection covered it and it holds a few mentions);
- potential reach is **unknown** (not 0) when no author of the period has a follower count
  (`Kpis.reach_reported` is 0).

Time series are bucketed by hour, day or ISO week (starting Monday) in the caller's time zone; empty
buckets are returned with zeros, so a chart shows the gaps.
"""

from __future__ import annotations

from storage.metrics.alerts import check_alerts, hourly_counts, top_mentions
from storage.metrics.campaigns import campaign
from storage.metrics.comparison import MIN_COVERAGE, MIN_PREVIOUS_MENTIONS, Comparison, comparison
from storage.metrics.reach import change, kpis, languages, top_authors, top_sources
from storage.metrics.results import (
    AuthorReach,
    CampaignReport,
    Change,
    Granularity,
    KpiReport,
    Kpis,
    LanguageCount,
    SentimentPoint,
    SiteRatings,
    SourceReach,
    TermCount,
    TermsAndHashtags,
    VoiceShare,
    VolumePoint,
    as_rows,
)
from storage.metrics.reviews import review_ratings
from storage.metrics.rollups import refresh_rollups
from storage.metrics.scope import language_code, latest_mention_at, matches_query, query_name
from storage.metrics.series import bucket_start, buckets, sentiment_series, volume_series
from storage.metrics.share_of_voice import share_of_voice
from storage.metrics.terms import STOPWORDS, TERM_SAMPLE_LIMIT, stopwords, top_terms_and_hashtags

__all__ = [
    "MIN_COVERAGE",
    "MIN_PREVIOUS_MENTIONS",
    "STOPWORDS",
    "TERM_SAMPLE_LIMIT",
    "AuthorReach",
    "CampaignReport",
    "Change",
    "Comparison",
    "Granularity",
    "KpiReport",
    "Kpis",
    "LanguageCount",
    "SentimentPoint",
    "SiteRatings",
    "SourceReach",
    "TermCount",
    "TermsAndHashtags",
    "VoiceShare",
    "VolumePoint",
    "as_rows",
    "bucket_start",
    "buckets",
    "campaign",
    "change",
    "check_alerts",
    "comparison",
    "hourly_counts",
    "kpis",
    "language_code",
    "languages",
    "latest_mention_at",
    "matches_query",
    "query_name",
    "refresh_rollups",
    "review_ratings",
    "sentiment_series",
    "share_of_voice",
    "stopwords",
    "top_authors",
    "top_mentions",
    "top_sources",
    "top_terms_and_hashtags",
    "volume_series",
]
