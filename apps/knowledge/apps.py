from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "apps.knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from apps.audit.registry import register_audited
        from apps.search import register_document_type

        from .models import Article, ArticleGroup, Category
        from .search import ARTICLE_DOCUMENT

        register_document_type(ARTICLE_DOCUMENT)
        register_audited(Category)
        register_audited(ArticleGroup)
        # Counters and the search vector change on every vote or reindex: not edits to audit.
        register_audited(
            Article,
            exclude_fields=[
                "search_vector",
                "helpful_count",
                "not_helpful_count",
                "open_count",
                "ticket_link_count",
            ],
        )
