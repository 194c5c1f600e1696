"""Search: PostgreSQL full-text by default, Elasticsearch (elasticsearch-dsl) when configured."""

from apps.core.env import env_str

SEARCH_BACKEND = env_str("SEARCH_BACKEND", "postgres")  # "postgres" or "elasticsearch"
ELASTICSEARCH_URL = env_str("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
ELASTICSEARCH_INDEX_PREFIX = env_str("ELASTICSEARCH_INDEX_PREFIX", "cc")
