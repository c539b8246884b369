"""Two worker PROCESSES on one portal: one token refresh between them; the shared bucket prevents 503s."""

import json
import time

import pytest

from bx24app.models import Portal
from emulators.bitrix24 import auth as emulator_auth
from tests.bx24app.conftest import emulator_stats, portal_row, run_worker_processes

pytestmark = pytest.mark.django_db(transaction=True)


def _worker_env(emulator):
    return {"BITRIX24_OAUTH_SERVERS": emulator.base_url, "BITRIX24_ALLOW_HTTP": "1"}


def _reports(results):
    for result in results:
        assert result.returncode == 0, result.stderr
    return [json.loads(result.stdout.strip().splitlines()[-1]) for result in results]


def test_two_processes_hitting_an_expired_token_refresh_it_once(bitrix_settings, emulator, monkeypatch):
    portal = portal_row(emulator)
    refreshes = []
    original = emulator_auth.refresh_grant

    def counting_refresh_grant(*args, **kwargs):
        refreshes.append(time.time())
        return original(*args, **kwargs)

    monkeypatch.setattr(emulator_auth, "refresh_grant", counting_refresh_grant)
    emulator.expire_tokens(portal.member_id)
    start_at = time.time() + 3

    reports = _reports(run_worker_processes([[portal.member_id, str(start_at), "3"]] * 2, _worker_env(emulator)))

    print("requests per process:", [report["stats"]["requests"] for report in reports])
    assert len(refreshes) == 1
    assert all(report["errors"] == [] for report in reports)
    stored = Portal.objects.get(pk=portal.pk)
    assert {report["access_token"] for report in reports} == {stored.access_token}
    assert stored.access_token != portal.access_token


@pytest.mark.slow
def test_a_burst_of_300_calls_from_two_processes_gets_no_503_and_keeps_the_bucket_pace(bitrix_settings,
                                                                                       emulator):
    portal = portal_row(emulator)  # a new portal: its bucket (and ours) start empty
    before = emulator_stats(emulator)
    start_at = time.time() + 4

    reports = _reports(run_worker_processes([[portal.member_id, str(start_at), "150"]] * 2,
                                            _worker_env(emulator)))

    elapsed = max(report["finished"] for report in reports) - start_at
    after = emulator_stats(emulator)
    rate, burst = 2.0, 50
    allowed = (300 - burst) / rate
    print(f"300 calls in {elapsed:.1f} s; the bucket allows {allowed:.1f} s")
    assert all(report["errors"] == [] for report in reports)
    assert after["errors"].get("QUERY_LIMIT_EXCEEDED", 0) == before["errors"].get("QUERY_LIMIT_EXCEEDED", 0)
    assert after["requests"]["user.current"] - before["requests"].get("user.current", 0) == 300
    assert sum(report["stats"]["requests"] for report in reports) == 300
    assert elapsed <= allowed * 1.1
