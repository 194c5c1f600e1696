from django.urls import path

from apps.knowledge.api import views

urlpatterns = [
    path("categories/", views.CategoryListView.as_view(), name="knowledge-category-list"),
    path("articles/", views.ArticleListView.as_view(), name="knowledge-article-list"),
    path(
        "articles/<int:article_id>/",
        views.ArticleDetailView.as_view(),
        name="knowledge-article-detail",
    ),
    path(
        "articles/<int:article_id>/publish/",
        views.ArticlePublishView.as_view(),
        name="knowledge-article-publish",
    ),
    path(
        "articles/<int:article_id>/unpublish/",
        views.ArticleUnpublishView.as_view(),
        name="knowledge-article-unpublish",
    ),
    path(
        "articles/<int:article_id>/versions/",
        views.ArticleVersionListView.as_view(),
        name="knowledge-article-versions",
    ),
    path(
        "articles/<int:article_id>/versions/<int:number>/restore/",
        views.ArticleVersionRestoreView.as_view(),
        name="knowledge-article-restore",
    ),
    path(
        "articles/<int:article_id>/feedback/",
        views.ArticleFeedbackView.as_view(),
        name="knowledge-article-feedback",
    ),
    path(
        "articles/<int:article_id>/usage/",
        views.ArticleUsageView.as_view(),
        name="knowledge-article-usage",
    ),
    path("search/", views.ArticleSearchView.as_view(), name="knowledge-search"),
    path("suggest/", views.ArticleSuggestView.as_view(), name="knowledge-suggest"),
]
