import threading
import pytest
from channels.db import database_sync_to_async
from django.db import connection
from tests.console.conftest import run, communicator
pytestmark = pytest.mark.django_db

def test_dbg(cast):
    from apps.accounts.models import User
    print("main", threading.get_ident(), connection.connection)
    def q():
        print("in q", threading.get_ident(), connection.get_autocommit(), connection.in_atomic_block, connection.connection)
        return User.objects.count()
    comm = communicator(user=cast.agent_a1.user)
    async def scenario():
        await comm.connect()
        await comm.receive_json_from()
        b = await database_sync_to_async(q)()
        return b
    print(run(scenario))
