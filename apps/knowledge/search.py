"""How articles are indexed: the "knowledge.article" document type and its documents."""

from __future__ import annotations

from apps.knowledge.models import Article, Category
from apps.search import DocumentType, PostgresStorage, SearchDocument, TextField

ARTICLE_DOC_TYPE = "knowledge.article"

# Title > tags > category and summary > body, in both backends. The category's words let a
# queue or skill named like it ("billing") suggest its articles.
ARTICLE_DOCUMENT = DocumentType(
    name=ARTICLE_DOC_TYPE,
    text_fields=(
        TextField("title", weight="A", boost=4),
        TextField("tags", weight="B", boost=2.5),
        TextField("category", weight="C", boost=1.5),
        TextField("summary", weight="C", boost=1.5),
        TextField("body", weight="D", boost=1),
    ),
    filter_fields=("language", "status", "visibility", "category"),
    language_filter="language",
    postgres=PostgresStorage(
        model="knowledge.Article",
        vector_field="search_vector",
        filter_lookups={
            "language": "language",
            "status": "status",
            "visibility": "group__visibility",
            "category": "group__category__slug",
        },
    ),
)


def _category_words(category: Category | None) -> str:
    if category is None:
        return ""
    return f"{category.name} {category.slug.replace('-', ' ').replace('_', ' ')}"


def article_search_document(article: Article) -> SearchDocument:
    """Return the search document of an article (its group and category loaded or fetched)."""
    category = article.group.category
    return SearchDocument(
        doc_type=ARTICLE_DOC_TYPE,
        doc_id=str(article.pk),
        language=article.language,
        fields={
            "title": article.title,
            "tags": " ".join(article.tags),
            "category": _category_words(category),
            "summary": article.summary,
            "body": article.body,
        },
        filters={
            "language": article.language,
            "status": article.status,
            "visibility": article.group.visibility,
            "category": category.slug if category else "",
        },
    )
