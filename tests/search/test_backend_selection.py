"""settings.SEARCH_BACKEND chooses the backend; one instance per process."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.search import SearchBackend, get_search_backend
from apps.search.backends.elasticsearch import ElasticsearchBackend
from apps.search.backends.postgres import PostgresSearchBackend


def test_postgres_is_the_default(settings):
    del settings.SEARCH_BACKEND

    backend = get_search_backend()

    assert isinstance(backend, PostgresSearchBackend)
    assert backend.transactional


def test_elasticsearch_when_configured(settings):
    settings.SEARCH_BACKEND = "elasticsearch"

    backend = get_search_backend()

    assert isinstance(backend, ElasticsearchBackend)
    assert not backend.transactional
    assert get_search_backend() is backend


@pytest.mark.parametrize("name", ["postgres", "elasticsearch"])
def test_both_backends_implement_the_interface(settings, name):
    settings.SEARCH_BACKEND = name

    assert isinstance(get_search_backend(), SearchBackend)


def test_an_unknown_backend_is_refused(settings):
    settings.SEARCH_BACKEND = "solr"

    with pytest.raises(ImproperlyConfigured, match="solr"):
        get_search_backend()
