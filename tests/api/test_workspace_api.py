"""/api/queue and the workspace routes over HTTP, on SQLite and PostgreSQL: the team's routed work in priority
order whatever the model said, working one mention (assign, status, notes, canned replies, who is replying),
replies refused where no reply is possible or recorded with their reason when they fail, and spam out of the KPIs.
Replies that reach a platform are tested in tests/web/test_workspace_in_browser.py against local replay servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, or_, select

from enrichers.replies import ReplyAccount
from overheard.api import create_app
from storage import metrics
from storage.audit import entries_for
from storage.schema import mentions, routes, verdicts
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, Seeded

SERVICE = "customer_service"


def _open_service(seeded: Seeded, *conditions: Any) -> list[Any]:
    with seeded.engine.connect() as connection:
        return list(
            connection.execute(
                select(mentions.c.id, mentions.c.source, mentions.c.status)
                .join(routes, routes.c.mention_id == mentions.c.id)
                .join(verdicts, verdicts.c.mention_id == mentions.c.id)
                .where(routes.c.team == SERVICE, routes.c.status == "open", *conditions)
                .order_by(mentions.c.id.desc())
            )
        )


def test_the_queue_is_every_mention_routed_to_the_team_highest_score_first(client: TestClient, seeded: Seeded) -> None:
    answer = client.get("/api/queue", params={"limit": 200}, headers=seeded.auth(Role.service))
    assert answer.status_code == 200, answer.text
    queue = answer.json()
    assert queue["team"] == SERVICE and queue["teams"] == [SERVICE]
    scores = [item["score"] for item in queue["items"]]
    assert scores == sorted(scores, reverse=True) and len(scores) > 20
    assert {item["intent"] for item in queue["items"]} > {"complaint", "question"}  # 'other' routed work too
    assert {p["name"] for p in queue["items"][0]["parts"]} == {"intent", "severity", "reach", "contact", "waiting"}
    assert list(queue["counts"]) == [SERVICE]  # service sees its own team's counts only

    overdue = client.get("/api/queue", params={"view": "overdue"}, headers=seeded.auth(Role.service)).json()
    assert overdue["items"] and {i["due"] for i in overdue["items"]} == {"overdue"}
    german = client.get("/api/queue", params={"language": "de"}, headers=seeded.auth(Role.service)).json()
    assert german["items"] and all(i["language"].startswith("de") for i in german["items"])
    other = client.get("/api/queue", params={"intent": "other"}, headers=seeded.auth(Role.service)).json()
    assert other["items"] and {i["intent"] for i in other["items"]} == {"other"}

    # Service may open such a mention: the scope is the route, not the model's intent.
    assert client.get(f"/api/mentions/{other['items'][0]['mention_id']}", headers=seeded.auth(Role.service)).is_success

    assert client.get("/api/queue", params={"team": "sales"}, headers=seeded.auth(Role.service)).status_code == 404
    sales = client.get("/api/queue", params={"team": "sales"}, headers=seeded.auth(Role.admin)).json()
    assert sales["team"] == "sales" and len(sales["teams"]) == 5
    assert client.get("/api/queue", headers=seeded.auth(Role.marketing)).status_code == 403


def test_teammates_assign_set_status_note_and_see_who_else_is_replying(client: TestClient, seeded: Seeded) -> None:
    target = _open_service(seeded, mentions.c.status == "new")[0].id
    service, admin = seeded.auth(Role.service), seeded.auth(Role.admin)
    assert client.post(f"/api/mentions/{target}/assign-to", json={"teammate": "dana"}, headers=service).json() == {
        "assignee": "dana"
    }
    assert client.post(f"/api/mentions/{target}/status", json={"status": "done"}, headers=service).status_code == 422
    assert client.post(f"/api/mentions/{target}/status", json={"status": "snoozed"}, headers=service).is_success
    note = client.post(f"/api/mentions/{target}/notes", json={"body": "Called the hotline too."}, headers=service)
    assert note.status_code == 201
    assert client.post(f"/api/mentions/{target}/notes", json={"body": ""}, headers=service).status_code == 422

    assert client.post(f"/api/mentions/{target}/replying", headers=service).json() == {"others": []}
    assert client.post(f"/api/mentions/{target}/replying", headers=admin).json() == {"others": ["service-tester"]}
    assert client.delete(f"/api/mentions/{target}/replying", headers=service).status_code == 204
    desk = client.get(f"/api/mentions/{target}/workspace", headers=admin).json()
    assert desk["others_replying"] == []  # service stopped; the admin's own claim is not a warning to themself
    assert [(h["action"], h["to_status"], h["assignee"]) for h in desk["history"]][-2:] == [
        ("assign", "assigned", "dana"),
        ("status", "snoozed", None),
    ]
    assert [(n["author"], n["body"]) for n in desk["notes"]] == [("service-tester", "Called the hotline too.")]
    with seeded.engine.connect() as connection:
        audited = entries_for(connection, "mention", str(target))
    assert {"workspace.assign", "workspace.status", "workspace.note"} <= {e.action for e in audited}
    assert "Called the hotline" not in str([e.detail for e in audited])  # the note's text is not copied


def test_canned_replies_fill_in_the_customer_and_name_what_is_missing(client: TestClient, seeded: Seeded) -> None:
    service = seeded.auth(Role.service)
    target = _open_service(seeded)[0].id
    bad = client.put("/api/canned", json={"name": "broken", "body": "Hi {0}"}, headers=service)
    assert bad.status_code == 400 and "is not a variable" in bad.text
    saved = client.put(
        "/api/canned", json={"name": "ships", "body": "Hi {name}, order {order_number} ships today."}, headers=service
    )
    assert saved.status_code == 200 and saved.json()["team"] == SERVICE
    assert "ships" in [c["name"] for c in client.get("/api/canned", headers=service).json()]

    missing = client.post(f"/api/mentions/{target}/canned", json={"name": "ships"}, headers=service).json()
    assert missing["missing"] == ["order_number"]
    filled = client.post(
        f"/api/mentions/{target}/canned", json={"name": "ships", "values": {"order_number": "4711"}}, headers=service
    ).json()
    assert filled["missing"] == [] and filled["text"].endswith("order 4711 ships today.")
    assert "{" not in filled["text"]

    assert client.delete("/api/canned/ships", headers=service).status_code == 204
    assert client.delete("/api/canned/ships", headers=service).status_code == 404


def test_a_reply_is_refused_where_none_is_possible_and_a_failed_one_keeps_its_draft(seeded: Seeded) -> None:
    with seeded.engine.connect() as connection:
        feed = connection.execute(select(mentions.c.id).where(mentions.c.source.in_(("rss", "review")))).first()
    assert feed is not None
    plain = TestClient(create_app(seeded.engine, DEMO_CONFIG, rate_limit_per_minute=100_000))
    admin = seeded.auth(Role.admin)
    refused = plain.post(f"/api/mentions/{feed.id}/replies", json={"text": "Thanks!"}, headers=admin)
    assert refused.status_code == 400 and "takes no replies through an API" in refused.text
    x = _open_service(seeded, mentions.c.source == "x")[0].id
    unconfigured = plain.post(f"/api/mentions/{x}/replies", json={"text": "Thanks!"}, headers=admin)
    assert unconfigured.status_code == 400 and "no x reply account is configured" in unconfigured.text

    account = ReplyAccount(platform="x", secret_env="OVERHEARD_TEST_UNSET_X_TOKEN", cost_per_post="0.01")  # type: ignore[arg-type]
    config = DEMO_CONFIG.model_copy(update={"reply_accounts": {"lumora-x": account}})
    client = TestClient(create_app(seeded.engine, config, rate_limit_per_minute=100_000))
    body = {"text": "Sorry about that, we are on it.", "idempotency_key": "key-one-reply"}
    failed = client.post(f"/api/mentions/{x}/replies", json=body, headers=admin)
    assert failed.status_code == 200, failed.text
    kept = failed.json()
    assert not kept["sent"] and kept["sent_by"] == "admin-tester" and kept["account"] == "lumora-x"
    assert "set the environment variable OVERHEARD_TEST_UNSET_X_TOKEN" in kept["reason"]
    again = client.post(f"/api/mentions/{x}/replies", json=body, headers=admin).json()
    assert again["id"] == kept["id"]  # the same key sends (and records) once
    desk = client.get(f"/api/mentions/{x}/workspace", headers=admin).json()
    assert desk["draft"]["text"] == body["text"] and desk["can_reply"]
    assert desk["accounts"][0]["cost"] == {"amount": "0.01", "currency": "USD"}


def test_flagged_mentions_are_reviewable_and_spam_is_out_of_the_kpis(client: TestClient, seeded: Seeded) -> None:
    spam = client.get("/api/flagged", params={"kind": "spam"}, headers=seeded.auth(Role.communications)).json()
    assert spam and {s["flag"] for s in spam} == {"spam"} and all(s["reason"] for s in spam)
    assert "crypto_airdrop" in {s["rule"] for s in spam}
    owned = client.get("/api/flagged", params={"kind": "owned"}, headers=seeded.auth(Role.admin)).json()
    assert any(o["author"].lower() == "lumorahelp" for o in owned)
    for role in (Role.marketing, Role.service, Role.sales):  # triage roles do not review spam
        assert client.get("/api/flagged", headers=seeded.auth(role)).status_code == 403

    with seeded.engine.connect() as connection:
        latest = connection.execute(select(func.max(mentions.c.created_at))).scalar_one()
        end = datetime(latest.year, latest.month, latest.day, tzinfo=UTC) + timedelta(days=1)
        start = end - timedelta(days=90)
        period = (mentions.c.created_at >= start, mentions.c.created_at < end)
        everything = connection.execute(select(func.count()).select_from(mentions).where(*period)).scalar_one()
        counted = connection.execute(
            select(func.count())
            .select_from(mentions)
            .where(*period, or_(mentions.c.flag.is_(None), mentions.c.flag != "spam"))
        ).scalar_one()
        shown = metrics.kpis(connection, start, end).current.mentions
    assert shown == counted < everything


def test_an_app_store_review_is_answered_from_its_stores_reply_account(seeded: Seeded) -> None:
    # A review collected from Google Play carries its store in its id; a review page's review names none.
    with seeded.engine.begin() as connection:
        review = connection.execute(select(mentions.c.id).where(mentions.c.source == "review")).first()
        assert review is not None
        connection.execute(
            mentions.update().where(mentions.c.id == review.id).values(external_id="googleplay:com.lumora.app:gp:AOqp1")
        )
    account = ReplyAccount(
        platform="googleplay",
        secret_env="OVERHEARD_TEST_UNSET_PLAY_TOKEN",
        client_id_env="OVERHEARD_TEST_UNSET_PLAY_ID",
        client_secret_env="OVERHEARD_TEST_UNSET_PLAY_SECRET",
    )
    config = DEMO_CONFIG.model_copy(update={"reply_accounts": {"lumora-play": account}})
    client = TestClient(create_app(seeded.engine, config, rate_limit_per_minute=100_000))
    admin = seeded.auth(Role.admin)
    desk = client.get(f"/api/mentions/{review.id}/workspace", headers=admin).json()
    assert desk["can_reply"] and [a["name"] for a in desk["accounts"]] == ["lumora-play"]
    sent = client.post(f"/api/mentions/{review.id}/replies", json={"text": "Thanks for the review!"}, headers=admin)
    assert sent.status_code == 200, sent.text
    assert sent.json()["account"] == "lumora-play" and not sent.json()["sent"]  # no secret here: kept, with why


def test_the_flagged_review_page_is_for_the_roles_that_review_spam_only(seeded: Seeded) -> None:
    pages = TestClient(create_app(seeded.engine, DEMO_CONFIG, rate_limit_per_minute=100_000))

    def page_as(role: Role, path: str) -> Any:
        pages.cookies.clear()
        pages.cookies.set("overheard_login_csrf", "c")
        assert pages.post("/login", data={"token": seeded.tokens[role], "csrf": "c"}).status_code == 200
        return pages.get(path)

    for role in (Role.service, Role.sales):
        refused = page_as(role, "/queue/flagged?kind=spam")
        assert refused.status_code == 403 and "crypto airdrop" not in refused.text
        assert 'href="/queue/flagged"' not in page_as(role, "/queue").text  # no link to a page they may not open
    for role in (Role.admin, Role.communications):
        shown = page_as(role, "/queue/flagged?kind=spam")
        assert shown.status_code == 200 and "crypto airdrop" in shown.text
    assert 'href="/queue/flagged"' in page_as(Role.communications, "/alerts").text  # in their navigation
