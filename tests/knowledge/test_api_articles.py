"""The knowledge API: list filters and cursor pages, details with languages, writes, search,
suggestions, feedback and usage."""

from __future__ import annotations

import pytest

from apps.knowledge.models import Article, ArticleGroup, Visibility
from tests.knowledge.helpers import make_article, make_category

pytestmark = pytest.mark.django_db

BASE = "/api/v1/knowledge"


@pytest.fixture
def library():
    refund_en = make_article(
        title="Refund policy",
        body="Refunds within 30 days.",
        tags=["refund"],
        category="after-sales",
    )
    refund_zh = make_article(
        title="退款政策",
        body="签收后30天内可申请退款。",
        language="zh-hans",
        tags=["退款"],
        group=refund_en.group,
    )
    invoice_en = make_article(
        title="Requesting an invoice",
        body="E-invoices by e-mail.",
        tags=["invoice"],
        category="billing",
    )
    internal = make_article(
        title="Refund approval limits",
        body="Up to 500 CNY.",
        category="after-sales",
        visibility=Visibility.INTERNAL,
    )
    return {
        "refund_en": refund_en,
        "refund_zh": refund_zh,
        "invoice_en": invoice_en,
        "internal": internal,
    }


def _ids(response):
    return [item["id"] for item in response.json()["results"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"language": "zh-hans"}, ["refund_zh"]),
        ({"category": "billing"}, ["invoice_en"]),
        ({"tag": "Refund"}, ["refund_en"]),
        ({"visibility": "internal"}, ["internal"]),
        ({"language": "en", "category": "after-sales"}, ["internal", "refund_en"]),
    ],
)
def test_the_list_filters(cast, client_as, library, params, expected):
    response = client_as(cast.agent_a1.user).get(f"{BASE}/articles/", params)

    assert response.status_code == 200
    assert _ids(response) == [library[name].pk for name in expected]


def test_the_list_pages_with_a_cursor(cast, client_as, library):
    client = client_as(cast.agent_a1.user)

    first = client.get(f"{BASE}/articles/", {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    ordered = sorted((a.pk for a in library.values()), reverse=True)
    assert [item["id"] for item in first["results"]] == ordered[:3]
    assert [item["id"] for item in second["results"]] == ordered[3:]
    assert second["next"] is None


def test_the_detail_lists_the_other_languages(cast, client_as, library):
    response = client_as(cast.agent_a1.user).get(f"{BASE}/articles/{library['refund_en'].pk}/")

    body = response.json()
    assert body["title"] == "Refund policy"
    assert body["category"]["slug"] == "after-sales"
    assert body["visibility"] == "public"
    assert body["key"] == "refund-policy"
    assert body["variants"] == [
        {
            "id": library["refund_zh"].pk,
            "language": "zh-hans",
            "title": "退款政策",
            "status": "published",
        }
    ]


def test_an_editor_creates_a_draft_and_a_translation_then_publishes(cast, client_as):
    make_category("billing", "Billing")
    client = client_as(cast.supervisor_a)

    created = client.post(
        f"{BASE}/articles/",
        {
            "language": "en",
            "title": "Invoice copy",
            "body": "We e-mail a copy.",
            "tags": ["Invoice", " copy "],
            "category": "billing",
            "visibility": "public",
            "key": "invoice-copy",
            "change_note": "First draft.",
        },
        format="json",
    )
    translated = client.post(
        f"{BASE}/articles/",
        {
            "translation_of": created.json()["id"],
            "language": "zh-hans",
            "title": "发票副本",
            "body": "我们通过邮件发送发票副本。",
            "visibility": "internal",
        },
        format="json",
    )
    published = client.post(f"{BASE}/articles/{translated.json()['id']}/publish/")

    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    assert created.json()["tags"] == ["invoice", "copy"]
    assert translated.status_code == 201
    # A translation joins the article: category and visibility come from it.
    assert (translated.json()["key"], translated.json()["visibility"]) == ("invoice-copy", "public")
    assert published.json()["status"] == "published"
    assert published.json()["variants"] == [
        {"id": created.json()["id"], "language": "en", "title": "Invoice copy", "status": "draft"}
    ]
    assert ArticleGroup.objects.get(key="invoice-copy").variants.count() == 2


def test_a_second_variant_in_the_same_language_is_refused(cast, client_as, library):
    response = client_as(cast.admin).post(
        f"{BASE}/articles/",
        {
            "translation_of": library["refund_en"].pk,
            "language": "zh-hans",
            "title": "退款",
            "body": "重复。",
        },
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {
        "language": ["The article already exists in this language."]
    }
    assert library["refund_en"].group.variants.count() == 2


def test_a_taken_key_is_refused(cast, client_as, library):
    response = client_as(cast.admin).post(
        f"{BASE}/articles/",
        {"language": "en", "title": "Refunds", "body": "Again.", "key": "refund-policy"},
        format="json",
    )

    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["key"]
    assert Article.objects.count() == 4


def test_invalid_input_names_the_fields(cast, client_as):
    response = client_as(cast.admin).post(
        f"{BASE}/articles/", {"language": "fr", "title": "", "tags": ["x" * 51]}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"language", "title", "body", "tags"}
    assert not Article.objects.exists()


def test_changing_the_visibility_through_one_language_changes_all(cast, client_as, library):
    response = client_as(cast.supervisor_a).patch(
        f"{BASE}/articles/{library['refund_zh'].pk}/",
        {"visibility": "internal", "category": None, "change_note": "Staff only now."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["visibility"] == "internal"
    assert response.json()["category"] is None
    # Visibility is not text: no new version.
    assert response.json()["version"] == 1
    crm = client_as(cast.crm)
    assert crm.get(f"{BASE}/articles/{library['refund_en'].pk}/").status_code == 404


def test_versions_and_restore(cast, client_as, library):
    client = client_as(cast.supervisor_a)
    article_id = library["refund_en"].pk
    client.patch(
        f"{BASE}/articles/{article_id}/",
        {"body": "Refunds within 14 days.", "change_note": "Shorter period."},
        format="json",
    )

    restored = client.post(
        f"{BASE}/articles/{article_id}/versions/1/restore/",
        {"change_note": "Legal said no."},
        format="json",
    )
    versions = client.get(f"{BASE}/articles/{article_id}/versions/").json()["results"]

    assert restored.json()["body"] == "Refunds within 30 days."
    assert [
        (v["number"], v["body"], v["created_by"], v["change_note"], v["restored_from"])
        for v in versions
    ] == [
        (3, "Refunds within 30 days.", "supervisor_a", "Legal said no.", 1),
        (2, "Refunds within 14 days.", "supervisor_a", "Shorter period.", None),
        (1, "Refunds within 30 days.", None, "", None),
    ]


def test_restoring_a_missing_version_is_not_found(cast, client_as, library):
    response = client_as(cast.admin).post(
        f"{BASE}/articles/{library['refund_en'].pk}/versions/9/restore/", {}, format="json"
    )

    assert response.status_code == 404


def test_search_in_chinese_and_english(cast, client_as, library):
    client = client_as(cast.agent_a1.user)

    chinese = client.get(f"{BASE}/search/", {"q": "退款", "language": "zh-hans"}).json()
    english = client.get(f"{BASE}/search/", {"q": "refunds"}).json()

    assert [hit["article"]["title"] for hit in chinese["results"]] == ["退款政策"]
    assert sorted(hit["article"]["title"] for hit in english["results"]) == [
        "Refund approval limits",
        "Refund policy",
    ]
    assert all(0 < hit["score"] < 2 for hit in english["results"])


def test_search_needs_a_query_and_a_known_language(cast, client_as):
    response = client_as(cast.agent_a1.user).get(f"{BASE}/search/", {"language": "fr"})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"q", "language"}


def test_suggest_from_the_call_context(cast, client_as, library):
    response = client_as(cast.agent_a1.user).post(
        f"{BASE}/suggest/",
        {
            "ivr_path": ["售后服务", "退款"],
            "queue_name": "Refunds",
            "language": "zh-hans",
            "limit": 2,
        },
        format="json",
    )

    assert response.status_code == 200
    assert [hit["article"]["title"] for hit in response.json()["results"]] == [
        "退款政策",
        "Refund policy",
    ]


def test_feedback_answers_with_the_new_counts(cast, client_as, library):
    article_id = library["refund_en"].pk
    client_as(cast.agent_a2.user).post(
        f"{BASE}/articles/{article_id}/feedback/", {"helpful": True}, format="json"
    )

    response = client_as(cast.agent_a1.user).post(
        f"{BASE}/articles/{article_id}/feedback/",
        {"helpful": False, "comment": "Missing the 14-day rule", "call_uuid": "abc-123"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"helpful": False, "helpful_count": 1, "not_helpful_count": 1}


def test_usage_counts_opens_and_refuses_ticket_links(cast, client_as, library):
    client = client_as(cast.agent_a1.user)
    article_id = library["refund_en"].pk

    opened = client.post(
        f"{BASE}/articles/{article_id}/usage/",
        {"source": "suggestion", "call_uuid": "abc-123"},
        format="json",
    )
    ticket = client.post(
        f"{BASE}/articles/{article_id}/usage/", {"source": "ticket"}, format="json"
    )

    assert opened.status_code == 201
    assert opened.json() == {"open_count": 1, "ticket_link_count": 0}
    assert ticket.status_code == 400


def test_the_schema_documents_the_knowledge_endpoints(cast, client_as):
    response = client_as(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")

    paths = response.json()["paths"]
    assert {
        "/api/v1/knowledge/articles/",
        "/api/v1/knowledge/search/",
        "/api/v1/knowledge/suggest/",
        "/api/v1/knowledge/articles/{article_id}/feedback/",
    } <= set(paths)
