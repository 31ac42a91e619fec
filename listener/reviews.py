"""Review pages: schema.org `Review` / `AggregateRating` (JSON-LD and microdata), plus Amazon review markup.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    ReviewCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'review:<product or site>'
        url: str,                           # first review page (user-supplied: SSRF guard and robots.txt apply)
        max_pages: int = 5,                 # follow the page's "next" link this many times at most
        newest_first: bool = False,         # the URL lists reviews newest first (e.g. Amazon sortBy=recent):
                                            # then sweeps stop at the last sweep's newest review date
        finishing: Finishing | None = None,
    )

Extraction (pure, `extract_reviews(html, page_url)`), in order, first that finds reviews wins:
1. the Amazon review markup family (`data-hook="review"`, `review-star-rating` with `a-star-N`,
   `review-title`, `review-date` in the site's language, `review-body`, `helpful-vote-statement`);
2. JSON-LD `<script type="application/ld+json">`: `Review` objects anywhere (also inside `@graph` and a
   `Product`'s / `LocalBusiness`'s `review` list), and `AggregateRating`;
3. microdata (`itemscope itemtype=".../Review"` with `itemprop`s).
Star ratings are normalised to 0–5 (`ratingValue / bestRating * 5`, bestRating defaulting to 5). Next page:
`<link rel="next">`, `<a rel="next">`, or Amazon's `li.a-last a`, followed only on the configured site.
Pages are fetched with robots.txt checked.

Review ids: Amazon's own review id; otherwise the review's `@id`/`url`, or a hash of the configured page,
author, day and title (stable when the author corrects the text; an anonymous review adds its text). A review
without a date or text is quarantined. The first page's `AggregateRating` goes with its `Page` (`rating`), and
the shell keeps it over time.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from pydantic import Field

from listener.base import BuildContext, Collector, Page, RatingSeen, SourceBase
from listener.cursor import Watermark
from listener.http import Http, HttpError
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, html_to_text, page_error, source_error

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class RawReview:
    """A review as found on the page, before it becomes a Mention. `rating` is already on a 0–5 scale."""

    site: str
    review_id: str | None
    author: str | None
    title: str | None
    body: str | None
    published: date | datetime | None
    rating: float | None
    helpful_votes: int | None = None
    url: str | None = None
    language: str | None = None
    problem: str | None = None  # why a field could not be read, for the quarantine


@dataclass(frozen=True)
class AggregateRating:
    """The product's overall rating as the page states it. `rating` on 0–5; `count` in reviews or ratings."""

    rating: float | None
    count: int | None


@dataclass
class ReviewPage:
    reviews: list[RawReview] = field(default_factory=list)
    aggregate: AggregateRating | None = None
    next_url: str | None = None


# --- rating and date parsing ------------------------------------------------------------------------------


def normalise_rating(value: Any, best: Any = 5, worst: Any = None) -> float | None:
    """A rating on a 0–5 scale. Accepts '4,5', '4.5', 9 (of best=10). None when unreadable."""
    number = _number(value)
    top = _number(best) or 5.0
    if number is None or top <= 0:
        return None
    return round(max(0.0, min(5.0, number / top * 5)), 2)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = re.search(r"\d+(?:[.,]\d+)?", value)
        if m:
            return float(m.group().replace(",", "."))
    return None


_MONTHS = {
    # en, it, de, fr, es, pt, nl: the languages of the Amazon storefronts and most review sites
    **dict.fromkeys(["january", "jan", "gennaio", "januar", "janvier", "enero", "janeiro", "januari"], 1),
    **dict.fromkeys(["february", "feb", "febbraio", "februar", "fevrier", "febrero", "fevereiro", "februari"], 2),
    **dict.fromkeys(["march", "mar", "marzo", "marz", "mars", "marco", "maart"], 3),
    **dict.fromkeys(["april", "apr", "aprile", "avril", "abril"], 4),
    **dict.fromkeys(["may", "maggio", "mai", "mayo", "maio", "mei"], 5),
    **dict.fromkeys(["june", "jun", "giugno", "juni", "juin", "junio", "junho"], 6),
    **dict.fromkeys(["july", "jul", "luglio", "juli", "juillet", "julio", "julho"], 7),
    **dict.fromkeys(["august", "aug", "agosto", "aout", "augustus"], 8),
    **dict.fromkeys(["september", "sep", "sept", "settembre", "septembre", "septiembre", "setembro"], 9),
    **dict.fromkeys(["october", "oct", "ottobre", "oktober", "octobre", "octubre", "outubro"], 10),
    **dict.fromkeys(["november", "nov", "novembre", "noviembre", "novembro"], 11),
    **dict.fromkeys(["december", "dec", "dicembre", "dezember", "decembre", "diciembre", "dezembro"], 12),
}


def parse_review_date(text: str) -> date:
    """A review date as sites print it: ISO, '14 novembre 2018', 'March 3, 2021', '3. März 2021',
    'Reviewed in the United States on March 3, 2021'. Raises ValueError when no date is found."""
    text = text.strip()
    iso = re.search(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", text)
    if iso:
        return _parse_iso(iso.group())
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch))
    tokens = re.findall(r"[a-z]+|\d+", folded)
    month = next((_MONTHS[t] for t in tokens if t in _MONTHS), None)
    numbers = [int(t) for t in tokens if t.isdigit()]
    years = [n for n in numbers if n > 1900]
    days = [n for n in numbers if 1 <= n <= 31]
    if month is None or not years or not days:
        raise ValueError(f"no date in {text!r}")
    return date(years[-1], month, days[0])


def _parse_iso(value: str) -> date | datetime:
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))


# --- Amazon -----------------------------------------------------------------------------------------------

_AMAZON_STARS = re.compile(r"a-star-(?:medium-|small-|mini-)?(\d)(?:-(\d))?$")


def _amazon_reviews(soup: BeautifulSoup, page_url: str) -> list[RawReview]:
    site = urlsplit(page_url).netloc
    language = (soup.html.get("lang") if soup.html else None) or None
    found: list[RawReview] = []
    for block in soup.select('[data-hook="review"]'):
        review_id = block.get("id")
        star = block.select_one('[data-hook="review-star-rating"], [data-hook="cmps-review-star-rating"]')
        rating = None
        if star is not None:
            for cls in star.get("class") or []:
                m = _AMAZON_STARS.match(cls)
                if m:
                    rating = float(m.group(1)) + (float(m.group(2)) / 10 if m.group(2) else 0.0)
            if rating is None:
                rating = normalise_rating(star.get_text(" ", strip=True))
        date_text = _text(block.select_one('[data-hook="review-date"]'))
        published, problem = None, None
        if date_text:
            try:
                published = parse_review_date(date_text)
            except ValueError as exc:
                problem = str(exc)
        helpful = _text(block.select_one('[data-hook="helpful-vote-statement"]'))
        found.append(
            RawReview(
                site=site,
                review_id=f"amazon:{review_id}" if review_id else None,
                author=_text(block.select_one(".a-profile-name")),
                title=_text(block.select_one('[data-hook="review-title"]')),
                body=_body_text(block.select_one('[data-hook="review-body"]')),
                published=published,
                rating=rating,
                helpful_votes=_helpful_votes(helpful) if helpful else None,
                url=urljoin(page_url, f"/gp/customer-reviews/{review_id}") if review_id else None,
                language=language.split("-")[0] if isinstance(language, str) else None,
                problem=problem,
            )
        )
    return found


def _helpful_votes(text: str) -> int | None:
    digits = re.search(r"\d[\d.,]*", text)
    if digits:
        return int(re.sub(r"[.,]", "", digits.group()))
    # 'One person found this helpful', 'Una persona…', 'Eine Person…', 'Une personne…'
    return 1 if re.search(r"\b(one|una|uno|eine|une|um|een)\b", text, re.IGNORECASE) else None


def _amazon_aggregate(soup: BeautifulSoup) -> AggregateRating | None:
    stars = soup.select_one('[data-hook="average-star-rating"], [data-hook="rating-out-of-text"]')
    if stars is None:
        return None
    count_text = _text(soup.select_one('[data-hook="total-review-count"]'))
    count = (
        int(re.sub(r"[.,\s]", "", m.group())) if count_text and (m := re.search(r"\d[\d.,\s]*", count_text)) else None
    )
    return AggregateRating(normalise_rating(stars.get_text(" ", strip=True)), count)


# --- JSON-LD ----------------------------------------------------------------------------------------------


def _types(obj: Mapping[str, Any]) -> set[str]:
    value = obj.get("@type") or []
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1] for v in values}


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _walk(value)


def _person(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return str(value).strip() or None if value else None


def _rating_of(value: Any) -> float | None:
    if isinstance(value, dict):
        return normalise_rating(value.get("ratingValue"), value.get("bestRating", 5))
    return normalise_rating(value) if value is not None else None


def _jsonld(soup: BeautifulSoup, page_url: str) -> tuple[list[RawReview], AggregateRating | None]:
    site = urlsplit(page_url).netloc
    reviews: list[RawReview] = []
    aggregate: AggregateRating | None = None
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or script.get_text() or "null")
        except json.JSONDecodeError:
            continue  # one broken block must not hide the others
        for obj in _walk(data):
            kinds = _types(obj)
            if "Review" in kinds or "UserReview" in kinds or "CriticReview" in kinds:
                reviews.append(_jsonld_review(obj, site, page_url))
            elif "AggregateRating" in kinds and aggregate is None:
                count = obj.get("reviewCount") or obj.get("ratingCount")
                aggregate = AggregateRating(
                    normalise_rating(obj.get("ratingValue"), obj.get("bestRating", 5)),
                    int(_number(count) or 0) if count is not None else None,
                )
    return reviews, aggregate


def _jsonld_review(obj: Mapping[str, Any], site: str, page_url: str) -> RawReview:
    published, problem = None, None
    raw_date = obj.get("datePublished") or obj.get("dateCreated")
    if raw_date:
        try:
            published = parse_review_date(str(raw_date))
        except ValueError as exc:
            problem = str(exc)
    body = obj.get("reviewBody") or obj.get("description")
    language = obj.get("inLanguage")
    return RawReview(
        site=site,
        review_id=obj.get("@id") or obj.get("url"),
        author=_person(obj.get("author")),
        title=obj.get("name") or obj.get("headline"),
        body=html_to_text(str(body)) if body else None,
        published=published,
        rating=_rating_of(obj.get("reviewRating")),
        url=urljoin(page_url, obj["url"]) if isinstance(obj.get("url"), str) else None,
        language=language if isinstance(language, str) else None,
        problem=problem,
    )


# --- microdata --------------------------------------------------------------------------------------------


def _itemtype(tag: Tag) -> str:
    return str(tag.get("itemtype") or "").rsplit("/", 1)[-1]


def _item_props(scope: Tag) -> dict[str, Any]:
    """The itemprops that belong to `scope` (not to a nested itemscope), nested items as dicts."""
    props: dict[str, Any] = {}
    for tag in scope.find_all(itemprop=True):
        owner = tag.find_parent(itemscope=True)
        if owner is not scope:
            continue
        if tag.has_attr("itemscope"):
            value: Any = {"@type": _itemtype(tag), **_item_props(tag)}
        elif tag.name == "meta":
            value = tag.get("content")
        elif tag.name in ("a", "link"):
            value = tag.get("href")
        elif tag.name == "time":
            value = tag.get("datetime") or tag.get_text(" ", strip=True)
        else:
            value = tag.get("content") or _body_text(tag)
        for prop in str(tag["itemprop"]).split():
            props.setdefault(prop, value)
    return props


def _microdata(soup: BeautifulSoup, page_url: str) -> tuple[list[RawReview], AggregateRating | None]:
    site = urlsplit(page_url).netloc
    reviews = [
        _jsonld_review({"@type": "Review", **_item_props(scope)}, site, page_url)
        for scope in soup.find_all(itemscope=True)
        if _itemtype(scope) == "Review"
    ]
    aggregate = None
    for scope in soup.find_all(itemscope=True):
        if _itemtype(scope) == "AggregateRating":
            props = _item_props(scope)
            count = props.get("reviewCount") or props.get("ratingCount")
            aggregate = AggregateRating(
                normalise_rating(props.get("ratingValue"), props.get("bestRating", 5)),
                int(_number(count) or 0) if count is not None else None,
            )
            break
    return reviews, aggregate


# --- page -------------------------------------------------------------------------------------------------


def _text(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    return " ".join(tag.get_text(" ", strip=True).split()) or None


def _body_text(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    for hidden in tag.find_all(["input", "script", "style", "noscript"]):
        hidden.decompose()
    return html_to_text(tag.decode_contents()) or None


def _next_link(soup: BeautifulSoup, page_url: str) -> str | None:
    for selector in ('link[rel~="next"]', 'a[rel~="next"]', "li.a-last a"):
        tag = soup.select_one(selector)
        if tag is not None and tag.get("href"):
            return urljoin(page_url, str(tag["href"]))
    return None


def extract_reviews(html: bytes | str, page_url: str) -> ReviewPage:
    """Every review on one page, the page's aggregate rating and the next page's URL."""
    soup = BeautifulSoup(html, "lxml")
    page = ReviewPage(next_url=_next_link(soup, page_url))
    amazon = _amazon_reviews(soup, page_url)
    if amazon:
        page.reviews, page.aggregate = amazon, _amazon_aggregate(soup)
        return page
    reviews, aggregate = _jsonld(soup, page_url)
    if not reviews:
        reviews, micro_aggregate = _microdata(soup, page_url)
        aggregate = aggregate or micro_aggregate
    elif aggregate is None:
        aggregate = _microdata(soup, page_url)[1]
    page.reviews, page.aggregate = reviews, aggregate
    return page


def review_to_mention(review: RawReview, scope: str = "") -> Converted:
    """A review as a Mention. `scope` is the configured review page: a review without an id of its own is
    named by it, its author, day and title, so the id holds when the author corrects the text, and the
    same author reviewing two products on one day stays two reviews (an anonymous one adds its text)."""
    if review.problem:
        raise ValueError(review.problem)
    if review.published is None:
        raise ValueError("review has no date")
    text = review.body or review.title
    if not text:
        raise ValueError("review has neither a body nor a title")
    if not review.author and not review.body:
        raise Skip("empty review card")
    published = review.published
    created = published if isinstance(published, datetime) else datetime(published.year, published.month, published.day)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    identity = f"{scope}|{review.author}|{_day(published).isoformat()}|{review.title or ''}"
    if not review.author:
        identity += f"|{text}"
    review_id = review.review_id or f"{review.site}:" + hashlib.sha256(identity.encode()).hexdigest()[:24]
    return Converted(
        Mention(
            source=Platform.review,
            external_id=review_id,
            url=review.url,
            author=Author(handle=review.author or "anonymous", name=review.author),
            text=text,
            title=review.title if review.body else None,
            language=review.language,
            created_at=created,
            engagement=Engagement(likes=review.helpful_votes),
            rating=review.rating,
            raw_hash=payload_hash({k: str(v) for k, v in review.__dict__.items()}),
        )
    )


class ReviewCollector:
    """Review pages of one product or business. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        url: str,
        max_pages: int = 5,
        newest_first: bool = False,
        finishing: Finishing | None = None,
    ) -> None:
        self.http = http
        self.name = name
        self.url = url
        self.max_pages = max_pages
        self.newest_first = newest_first
        self.finishing = finishing or Finishing()
        self.aggregate: AggregateRating | None = None  # as last seen on the first page

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor) if self.newest_first else Watermark()
        floor = date.fromisoformat(start.floor) if start.floor else None
        url: str | None = start.resume or self.url
        newest: str | None = None
        for page_number in range(self.max_pages):
            assert url is not None
            page = self._fetch(url)
            if page_number == 0 and page.aggregate is not None:
                self.aggregate = page.aggregate
            reviews = page.reviews
            if floor is not None:
                reviews = [r for r in reviews if r.published is None or _day(r.published) >= floor]
            reached_floor = floor is not None and len(reviews) < len(page.reviews)
            mentions, rejected = convert_items(
                self.name, reviews, lambda r: review_to_mention(r, self.url), self.finishing
            )
            days = sorted(_day(r.published).isoformat() for r in reviews if r.published is not None)
            if days:
                newest = days[-1] if newest is None else max(newest, days[-1])
            url = page.next_url if _same_site(page.next_url, self.url) else None
            exhausted = url is None or reached_floor
            rating = None
            if page_number == 0 and page.aggregate is not None:
                rating = RatingSeen(self.url, page.aggregate.rating, page.aggregate.count)
            if not self.newest_first:
                yield Page(mentions, rejected, next_cursor=None, rating=rating)
            else:
                mark = start.after_page(newest=newest, oldest=url, exhausted=exhausted, order=date.fromisoformat)
                yield Page(mentions, rejected, next_cursor=mark.dump(), rating=rating)
            if exhausted:
                return

    def _fetch(self, url: str) -> ReviewPage:
        try:
            response = self.http.get(url, accept=HTML_TYPES, robots=True)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        page = extract_reviews(response.content, response.url)
        if not page.reviews and page.next_url is None:
            raise page_error(self.name, url, "no reviews found: neither Amazon review markup nor schema.org Review")
        return page


def _same_site(url: str | None, start: str) -> bool:
    """Paging stays on the site the user configured; a "next" link elsewhere ends the sweep."""
    return url is not None and urlsplit(url).netloc == urlsplit(start).netloc


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- overheard.yaml: `kind: review` -------------------------------------------------------------------------------


class ReviewSource(SourceBase):
    kind: Literal["review"]
    pages: tuple[str, ...] = Field(min_length=1, description="Product review page URLs.")
    max_pages: int = Field(default=5, ge=1)
    newest_first: bool = Field(
        default=False,
        description="The pages list reviews newest first (e.g. Amazon's sortBy=recent): sweeps then stop at the "
        "last sweep's newest review day instead of reading every page each time.",
    )


def build(source: ReviewSource, ctx: BuildContext) -> list[Collector]:
    """One collector per product review page."""
    return [
        ReviewCollector(
            ctx.http,
            name=ctx.name(url),
            url=url,
            max_pages=source.max_pages,
            newest_first=source.newest_first,
            finishing=ctx.finishing,
        )
        for url in source.pages
    ]
