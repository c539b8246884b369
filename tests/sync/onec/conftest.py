"""Fixtures: a session-wide small 1С emulator (read-only tests) and fresh ones for tests that change data."""

import pytest
import requests

from emulators.onec import OneCEmulator
from sync.onec.client import ODataClient, OneCStats

USER, PASSWORD = "odata", "odata"


class Emulator:
    """A running emulator with helpers for its control routes."""

    def __init__(self, seed=1, size="small"):
        self.emu = OneCEmulator(port=0, size=size, seed=seed, user=USER, password=PASSWORD)
        self.emu.start()
        self.url = self.emu.odata_url
        self.control = self.emu.base_url + "/_emulator"
        self.cases = requests.get(f"{self.control}/cases", timeout=10).json()

    def client(self, **kwargs) -> ODataClient:
        kwargs.setdefault("stats", OneCStats())
        kwargs.setdefault("backoff", 0)
        return ODataClient(self.url, USER, PASSWORD, **kwargs)

    def case(self, name: str, index: int = 0) -> str:
        return self.cases[name][index]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = requests.request(method, f"{self.control}{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def stop(self):
        self.emu.stop()


@pytest.fixture(scope="session")
def onec():
    emulator = Emulator()
    yield emulator
    emulator.stop()


@pytest.fixture
def fresh_onec():
    emulator = Emulator()
    yield emulator
    emulator.stop()
