"""schemathesis against HQ's own OpenAPI schema: whatever arrives, never a 5xx."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hq_harness import Hq
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.main import create_app
from posapp.hq.migrate import migrate

_home = Path(tempfile.mkdtemp(prefix="posapp-schemathesis-"))
atexit.register(shutil.rmtree, _home, True)
_settings = HqSettings(
    data_dir=_home, database_url=f"sqlite:///{_home / 'hq.db'}", master_key="k" * 32,
    rate_limit_per_minute=10**9, register_limit_per_minute=10**9,
)  # fmt: skip
_db = HqDatabase(_settings.db_url)
migrate(_db)
APP = create_app(_settings, _db)
_hq = Hq(TestClient(APP), _db)
_hq.store("s1")
_till = _hq.counter("s1")
_till.enrol("+8613812345678")
_till.push()

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _credential(path: str) -> dict[str, str]:
    if path.startswith("/v1/sync") or path.startswith("/v1/devices/rotate"):
        return _till.auth
    if path.startswith("/v1/invites"):
        return _hq.as_partner()
    return _hq.as_admin()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_hq_fail(case: schemathesis.Case) -> None:
    for headers in (_credential(case.path), {}):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        assert "Traceback" not in response.text
