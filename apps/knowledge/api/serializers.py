from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.knowledge.models import Article, ArticleUsage, ArticleVersion, Category, Visibility
from apps.knowledge.services import MAX_TAG_LENGTH, MAX_TAGS

LANGUAGE_CHOICES = [code for code, _name in settings.LANGUAGES]


class ArticleCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description"]


class ArticleVariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["id", "language", "title", "status"]


class ArticleSerializer(serializers.ModelSerializer):
    """An article as listed: everything but the body."""

    key = serializers.CharField(source="group.key", read_only=True)
    group = serializers.IntegerField(source="group_id", read_only=True)
    category = ArticleCategorySerializer(source="group.category", read_only=True, allow_null=True)
    visibility = serializers.CharField(source="group.visibility", read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "group",
            "key",
            "language",
            "title",
            "summary",
            "tags",
            "category",
            "visibility",
            "status",
            "version",
            "published_at",
            "updated_at",
            "helpful_count",
            "not_helpful_count",
            "open_count",
            "ticket_link_count",
        ]
        read_only_fields = fields


class ArticleDetailSerializer(ArticleSerializer):
    """An article with its body and the other languages the reader may open."""

    variants = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "variants"]
        read_only_fields = fields

    @extend_schema_field(ArticleVariantSerializer(many=True))
    def get_variants(self, article: Article) -> list[dict]:
        return ArticleVariantSerializer(self.context.get("variants", []), many=True).data


class TagsField(serializers.ListField):
    child = serializers.CharField(max_length=MAX_TAG_LENGTH)
    max_length = MAX_TAGS


class ArticleCreateSerializer(serializers.Serializer):
    translation_of = serializers.IntegerField(
        required=False, help_text=_("Add this language to an existing article (its id).")
    )
    key = serializers.SlugField(max_length=120, required=False)
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    body = serializers.CharField()
    tags = TagsField(required=False, default=list)
    change_note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class ArticleUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False)
    tags = TagsField(required=False)
    category = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Shared by every language of the article."),
    )
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        help_text=_("Shared by every language of the article."),
    )
    change_note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class ArticleVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = ArticleVersion
        fields = [
            "number",
            "title",
            "summary",
            "body",
            "tags",
            "change_note",
            "restored_from",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ArticleRestoreSerializer(serializers.Serializer):
    change_note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class ArticleSearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=500)
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False)
    category = serializers.SlugField(required=False)
    status = serializers.ChoiceField(
        choices=Article.Status.choices, required=False, help_text=_("Editors only.")
    )
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)


class ArticleHitSerializer(serializers.Serializer):
    score = serializers.FloatField()
    article = ArticleSerializer()


class ArticleSuggestSerializer(serializers.Serializer):
    ivr_path = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=20,
        required=False,
        default=list,
        help_text=_("Labels of the IVR choices the caller made, in order."),
    )
    queue_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    queue_slug = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    skills = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=30, required=False, default=list
    )
    language = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    ticket_subject = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    ticket_text = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


class ArticleFeedbackSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    call_uuid = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ArticleFeedbackResultSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    helpful_count = serializers.IntegerField()
    not_helpful_count = serializers.IntegerField()


class ArticleUsageSerializer(serializers.Serializer):
    """An agent opened the article; links to tickets are recorded by the tickets app."""

    source = serializers.ChoiceField(
        choices=[
            (value, label)
            for value, label in ArticleUsage.Source.choices
            if value != ArticleUsage.Source.TICKET
        ]
    )
    call_uuid = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ArticleUsageResultSerializer(serializers.Serializer):
    open_count = serializers.IntegerField()
    ticket_link_count = serializers.IntegerField()
