"""Campaign membership as stored facts: each mention's hashtags and `utm_campaign` values, extracted once.

A campaign (`storage.metrics.campaign`) is the mentions carrying `#tag`, or a link with `utm_campaign=value`,
in their title, text or URL. Scanning the text of every mention of a period for them costs a read of each
post; instead `mention_tags` holds (kind, value) per mention, lower case, and a campaign is one index range.

The definitions, unchanged from the text scan they replace:

- a hashtag is `#` not preceded by a letter, digit, `_` or `&` (`&#35;`), followed by letters, digits or `_`;
  `#Lumora` and `#lumora-hub` carry `lumora`, `#LumoraGlow` does not;
- a campaign value is what follows `?utm_campaign=` or `&utm_campaign=` up to the first character that is
  not a letter, digit, `_`, `.` or `-`; `glowup` is not `glow`;
- both compare case-insensitively (Python's lower case, on both backends).

A hashtag or value with other characters (`c++`, `spring%20sale`), or longer than TAG_VALUE_LENGTH, is never
stored: a campaign asked for by one is found by scanning the period's text, as before.

Kept in step like the metric rollups: a trigger logs each mention stored, or whose title, text, url or time
changed, in `mention_tags_log` (whatever code or hand-written SQL made the change); `refresh_mention_tags`
re-extracts them (`save_mentions` after each upsert, erasure after scrubbing other people's posts), and
readers read a mention that is still logged from its text, so a campaign never lags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, false, func, insert, or_, select

from storage.database import among, drain_log
from storage.schema import TAG_VALUE_LENGTH, mention_tags, mention_tags_log, mentions

HASHTAG = "hashtag"
UTM_CAMPAIGN = "utm_campaign"

_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_UTM_CAMPAIGN = re.compile(r"[?&]utm_campaign=([\w.-]+)", re.IGNORECASE)
_LOCK = 0x0E_A5_8D_09
"""PostgreSQL advisory lock key: one transaction at a time re-extracts tags (no waits between writers)."""
_CHUNK = 2000


def _searched(title: str | None, text: str, url: str | None) -> str:
    return f"{title or ''} {text} {url or ''}"


def tags_of(title: str | None, text: str, url: str | None) -> set[tuple[str, str]]:
    """(kind, value) of every hashtag and utm_campaign value in a mention's title, text and URL."""
    searched = _searched(title, text, url)
    found = {(HASHTAG, tag.lower()) for tag in _HASHTAG.findall(searched)}
    found |= {(UTM_CAMPAIGN, value.lower()) for value in _UTM_CAMPAIGN.findall(searched)}
    return {(kind, value) for kind, value in found if len(value) <= TAG_VALUE_LENGTH}


def refresh_mention_tags(connection: Connection, *, wait: bool = False) -> int:
    """Re-extract the tags of every mention logged in mention_tags_log, in the caller's transaction.

    Never needed for correct figures (readers read logged mentions from their text). On PostgreSQL one
    transaction refreshes at a time: with `wait=False` a writer that finds another one refreshing leaves its
    mentions logged for the next refresh instead of waiting. Returns the number of mentions re-extracted.
    """
    logged = drain_log(connection, mention_tags_log, "mention_id", _LOCK, wait=wait)
    if not logged:
        return 0
    ids = sorted(set(logged))
    for at in range(0, len(ids), _CHUNK):
        chunk = ids[at : at + _CHUNK]
        connection.execute(delete(mention_tags).where(among(connection, mention_tags.c.mention_id, chunk)))
        rows = connection.execute(
            select(mentions.c.id, mentions.c.created_at, mentions.c.title, mentions.c.text, mentions.c.url).where(
                among(connection, mentions.c.id, chunk)
            )
        )
        found = [
            {"mention_id": r.id, "kind": kind, "value": value, "created_at": r.created_at}
            for r in rows
            for kind, value in sorted(tags_of(r.title, r.text, r.url))
        ]
        if found:
            connection.execute(insert(mention_tags), found)
    return len(ids)


def _wanted(
    hashtag: str | None, utm_campaign: str | None
) -> tuple[set[tuple[str, str]], list[tuple[str, re.Pattern[str]]]]:
    """The (kind, value) rows that put a mention in the campaign, and (needle, pattern) for what no row holds."""
    keys: set[tuple[str, str]] = set()
    patterns: list[tuple[str, re.Pattern[str]]] = []
    if hashtag:
        tag = hashtag.lstrip("#")
        if re.fullmatch(r"\w+", tag) and len(tag.lower()) <= TAG_VALUE_LENGTH:
            keys.add((HASHTAG, tag.lower()))
        else:
            patterns.append(("#", re.compile(rf"(?<![\w&])#{re.escape(tag.lower())}(?!\w)", re.IGNORECASE)))
    if utm_campaign:
        if re.fullmatch(r"[\w.-]+", utm_campaign) and len(utm_campaign.lower()) <= TAG_VALUE_LENGTH:
            keys.add((UTM_CAMPAIGN, utm_campaign.lower()))
        else:
            value = re.escape(utm_campaign.lower())
            patterns.append(("utm_campaign=", re.compile(rf"[?&]utm_campaign={value}(?![\w.-])", re.IGNORECASE)))
    if not (keys or patterns):
        raise ValueError("a campaign needs a hashtag or a utm_campaign value")
    return keys, patterns


def campaign_members(
    connection: Connection,
    start: datetime,
    end: datetime,
    conditions: Sequence[ColumnElement[bool]],
    *,
    hashtag: str | None = None,
    utm_campaign: str | None = None,
) -> ColumnElement[bool]:
    """A condition on `mentions`: the mention carries the hashtag or the utm_campaign value.

    Exact for the mentions created in [start, end) that match `conditions` (the caller's period and scope,
    which must lie within [start, end)): tagged ones come from the `mention_tags` index, logged ones (changed
    since the last refresh) and values no tag row can hold are decided on their text here.
    """
    keys, patterns = _wanted(hashtag, utm_campaign)
    members: list[ColumnElement[bool]] = []
    if keys:
        logged = exists().where(mention_tags_log.c.mention_id == mention_tags.c.mention_id)
        members.append(
            mentions.c.id.in_(
                select(mention_tags.c.mention_id).where(
                    or_(*(and_(mention_tags.c.kind == kind, mention_tags.c.value == value) for kind, value in keys)),
                    mention_tags.c.created_at >= start,
                    mention_tags.c.created_at < end,
                    ~logged,
                )
            )
        )
        rows = connection.execute(
            select(mentions.c.id, mentions.c.title, mentions.c.text, mentions.c.url).where(
                *conditions, mentions.c.id.in_(select(mention_tags_log.c.mention_id))
            )
        )
        changed = [r.id for r in rows if tags_of(r.title, r.text, r.url) & keys]
        if changed:
            members.append(mentions.c.id.in_(changed))
    if patterns:
        members.append(mentions.c.id.in_(_scanned(connection, conditions, patterns)))
    return or_(false(), *members)


def _scanned(
    connection: Connection,
    conditions: Sequence[ColumnElement[bool]],
    patterns: Sequence[tuple[str, re.Pattern[str]]],
) -> list[int]:
    """Ids of the mentions matching `conditions` whose text a pattern finds; a LIKE on its needle goes first."""
    searched = func.lower(
        func.coalesce(mentions.c.title, "") + " " + mentions.c.text + " " + func.coalesce(mentions.c.url, "")
    )
    rows = connection.execute(
        select(mentions.c.id, mentions.c.title, mentions.c.text, mentions.c.url).where(
            *conditions, or_(*(searched.contains(needle, autoescape=True) for needle, _ in patterns))
        )
    )
    return [r.id for r in rows if any(p.search(_searched(r.title, r.text, r.url)) for _, p in patterns)]
