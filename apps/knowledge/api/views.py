"""Thin adapters: validate, one access check, one service or selector call, serialize."""

from __future__ import annotations

import django_filters
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.knowledge import services
from apps.knowledge.access import access_article_by_id, access_article_for_change
from apps.knowledge.api.serializers import (
    ArticleCategorySerializer,
    ArticleCreateSerializer,
    ArticleDetailSerializer,
    ArticleFeedbackResultSerializer,
    ArticleFeedbackSerializer,
    ArticleHitSerializer,
    ArticleRestoreSerializer,
    ArticleSearchParamsSerializer,
    ArticleSerializer,
    ArticleSuggestSerializer,
    ArticleUpdateSerializer,
    ArticleUsageResultSerializer,
    ArticleUsageSerializer,
    ArticleVersionSerializer,
)
from apps.knowledge.models import Article, ArticleUsage, ArticleVersion, Category, Visibility
from apps.knowledge.selectors import (
    SuggestionContext,
    article_list_visible,
    article_search,
    article_suggest,
    article_variants,
    article_version_list,
    category_list,
)
from apps.rbac.permissions import HasModelPermissions

VIEW = "knowledge.view_article"


class ArticleHitListSerializer(serializers.Serializer):
    results = ArticleHitSerializer(many=True)


def _detail(request: Request, article: Article) -> dict:
    variants = article_variants(actor=request.user, article=article)
    return ArticleDetailSerializer(article, context={"variants": variants}).data


class ArticleFilter(django_filters.FilterSet):
    language = django_filters.ChoiceFilter(choices=settings.LANGUAGES)
    category = django_filters.CharFilter(field_name="group__category__slug")
    tag = django_filters.CharFilter(method="filter_tag")
    status = django_filters.ChoiceFilter(choices=Article.Status.choices)
    visibility = django_filters.ChoiceFilter(
        field_name="group__visibility", choices=Visibility.choices
    )
    group = django_filters.NumberFilter(field_name="group_id")

    class Meta:
        model = Article
        fields = ["language", "category", "tag", "status", "visibility", "group"]

    def filter_tag(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.filter(tags__contains=[value.strip().lower()])


class ArticleListView(generics.ListAPIView):
    """List the articles the caller may read (cursor pages, newest first); editors create them."""

    serializer_class = ArticleSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "post": ["knowledge.add_article"]}
    filterset_class = ArticleFilter
    ordering = "-id"

    # The schema generator reads the model from here without running a query.
    queryset = Article.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return article_list_visible(actor=self.request.user)

    @extend_schema(request=ArticleCreateSerializer, responses={201: ArticleDetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = ArticleCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        translation_of = data.pop("translation_of", None)
        group = None
        if translation_of is not None:
            group = access_article_for_change(request.user, translation_of).group
        article = services.article_create(actor=request.user, group=group, **data)
        return Response(_detail(request, article), status=status.HTTP_201_CREATED)


class ArticleDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW], "patch": ["knowledge.change_article"]}

    @extend_schema(responses=ArticleDetailSerializer)
    def get(self, request: Request, article_id: int) -> Response:
        return Response(_detail(request, access_article_by_id(request.user, article_id)))

    @extend_schema(request=ArticleUpdateSerializer, responses=ArticleDetailSerializer)
    def patch(self, request: Request, article_id: int) -> Response:
        serializer = ArticleUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        article = access_article_for_change(request.user, article_id)
        article = services.article_update(
            actor=request.user, article=article, **serializer.validated_data
        )
        return Response(_detail(request, article))


class ArticlePublishView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": ["knowledge.publish_article"]}

    @extend_schema(request=None, responses=ArticleDetailSerializer)
    def post(self, request: Request, article_id: int) -> Response:
        article = access_article_for_change(request.user, article_id)
        article = services.article_publish(actor=request.user, article=article)
        return Response(_detail(request, article))


class ArticleUnpublishView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": ["knowledge.publish_article"]}

    @extend_schema(request=None, responses=ArticleDetailSerializer)
    def post(self, request: Request, article_id: int) -> Response:
        article = access_article_for_change(request.user, article_id)
        article = services.article_unpublish(actor=request.user, article=article)
        return Response(_detail(request, article))


class ArticleVersionListView(generics.ListAPIView):
    """The article's history, newest first: who changed what, when."""

    serializer_class = ArticleVersionSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["knowledge.view_articleversion"]}
    ordering = "-number"
    queryset = ArticleVersion.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        article = access_article_for_change(self.request.user, self.kwargs["article_id"])
        return article_version_list(article=article)


class ArticleVersionRestoreView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"post": ["knowledge.change_article"]}

    @extend_schema(request=ArticleRestoreSerializer, responses=ArticleDetailSerializer)
    def post(self, request: Request, article_id: int, number: int) -> Response:
        serializer = ArticleRestoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = access_article_for_change(request.user, article_id)
        article = services.article_restore_version(
            actor=request.user, article=article, number=number, **serializer.validated_data
        )
        return Response(_detail(request, article))


class ArticleSearchView(APIView):
    """Full-text search (Chinese and English), best first; `limit` results, no pages."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": [VIEW]}

    @extend_schema(parameters=[ArticleSearchParamsSerializer], responses=ArticleHitListSerializer)
    def get(self, request: Request) -> Response:
        params = ArticleSearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        hits = article_search(
            actor=request.user,
            query=params.validated_data["q"],
            language=params.validated_data.get("language"),
            category=params.validated_data.get("category"),
            status=params.validated_data.get("status"),
            limit=params.validated_data["limit"],
        )
        return Response({"results": ArticleHitSerializer(hits, many=True).data})


class ArticleSuggestView(APIView):
    """Articles for a contact, from what the IVR, the queue and the ticket say about it."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": [VIEW]}

    @extend_schema(request=ArticleSuggestSerializer, responses=ArticleHitListSerializer)
    def post(self, request: Request) -> Response:
        serializer = ArticleSuggestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        limit = data.pop("limit")
        hits = article_suggest(actor=request.user, context=SuggestionContext(**data), limit=limit)
        return Response({"results": ArticleHitSerializer(hits, many=True).data})


class ArticleFeedbackView(APIView):
    """Say whether the article helped; one verdict per user, the last one counts."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": ["knowledge.add_articlefeedback"]}

    @extend_schema(request=ArticleFeedbackSerializer, responses=ArticleFeedbackResultSerializer)
    def post(self, request: Request, article_id: int) -> Response:
        serializer = ArticleFeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = access_article_by_id(request.user, article_id)
        feedback = services.article_feedback_record(
            actor=request.user, article=article, **serializer.validated_data
        )
        article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
        return Response(
            ArticleFeedbackResultSerializer(
                {
                    "helpful": feedback.helpful,
                    "helpful_count": article.helpful_count,
                    "not_helpful_count": article.not_helpful_count,
                }
            ).data
        )


class ArticleUsageView(APIView):
    """Record that the agent opened the article (from a suggestion, a search or browsing)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"post": ["knowledge.add_articleusage"]}

    @extend_schema(request=ArticleUsageSerializer, responses={201: ArticleUsageResultSerializer})
    def post(self, request: Request, article_id: int) -> Response:
        serializer = ArticleUsageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = access_article_by_id(request.user, article_id)
        services.article_usage_record(
            actor=request.user,
            article=article,
            kind=ArticleUsage.Kind.OPENED,
            **serializer.validated_data,
        )
        article.refresh_from_db(fields=["open_count", "ticket_link_count"])
        return Response(ArticleUsageResultSerializer(article).data, status=status.HTTP_201_CREATED)


class CategoryListView(generics.ListAPIView):
    serializer_class = ArticleCategorySerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["knowledge.view_category"]}
    pagination_class = None

    queryset = Category.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return category_list(actor=self.request.user)
