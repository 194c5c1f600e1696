import pytest
from channels.db import database_sync_to_async
from django.db import connection
from tests.console.conftest import run
pytestmark = pytest.mark.django_db

def test_dbg(cast):
    from apps.accounts.models import User
    def q():
        print("autocommit", connection.get_autocommit(), connection.in_atomic_block, connection.connection)
        return User.objects.count()
    async def scenario():
        a = await database_sync_to_async(q)()
        b = await database_sync_to_async(q)()
        return a, b
    print(run(scenario))
