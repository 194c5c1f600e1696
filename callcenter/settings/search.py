"""Search: PostgreSQL full-text by default, Elasticsearch (elasticsearch-dsl) when configured."""

from apps.core.env import env_str

SEARCH_BACKEND = env_str("SEARCH_BACKEND", "postgres")  # "postgres" or "elasticsearch"
ELASTICSEARCH_URL = env_str("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
ELASTICSEARCH_INDEX_PREFIX = env_str("ELASTICSEARCH_INDEX_PREFIX", "cc")
# Chinese analysis in Elasticsearch: "jieba" (segmented in Python, no plugin), "smartcn" or "ik"
# (needs the analysis-smartcn or analysis-ik plugin on every node). See apps/search/backends.
SEARCH_ES_CHINESE_ANALYZER = env_str("SEARCH_ES_CHINESE_ANALYZER", "jieba")
# Optional jieba user dictionary (one "word [frequency] [tag]" a line) for product names etc.
SEARCH_JIEBA_USER_DICT = env_str("SEARCH_JIEBA_USER_DICT", None)
