"""English and Simplified Chinese are shipped and chosen per user."""

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_simplified_chinese_translations_are_shipped():
    with translation.override("zh-hans"):
        assert translation.gettext("Contact Center administration") == "呼叫中心管理"
        assert translation.gettext("Log in") == "登录"


def test_a_user_sees_pages_in_their_own_language(cast, client):
    user = cast.supervisor_a
    user.language = "zh-hans"
    user.save()
    client.force_login(user)

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "API 文档" in response.content.decode()
    assert '<html lang="zh-hans">' in response.content.decode()


def test_anonymous_visitors_get_their_browser_language(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    assert "登录" in response.content.decode()


def test_choosing_a_language_saves_it_on_the_user(cast, client):
    user = cast.agent_a1.user
    client.force_login(user)

    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "zh-hans"


def test_an_unknown_language_is_refused_and_nothing_changes(cast, client):
    user = cast.agent_a1.user
    client.force_login(user)

    response = client.post("/accounts/language/", {"language": "xx"})

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.language == "en"
