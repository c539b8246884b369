"""Session-wide 1С emulator (small data set) and an OData helper that encodes URLs the way 1С expects."""

import json
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from emulators.onec import OneCEmulator

METADATA = json.loads((Path(__file__).resolve().parents[3] / "emulators/onec/data/ut103-metadata.json")
                      .read_text(encoding="utf-8"))
SAFE_PATH = "()'=,/$:"
SAFE_VALUE = "()',=/$:"


class OData:
    """GET helper: percent-encodes paths and values with %20 (1С does not decode '+')."""

    def __init__(self, emu):
        self.emu = emu
        self.session = requests.Session()
        self.session.auth = ("odata", "odata")

    def url(self, path, **options):
        query = "&".join(f"{name}={quote(str(value), safe=SAFE_VALUE)}" for name, value in options.items())
        return self.emu.odata_url + quote(path, safe=SAFE_PATH) + ("?" + query if query else "")

    def raw(self, path, **options):
        options = {k.replace("_", "$", 1) if k.startswith("_") else k: v for k, v in options.items()}
        return self.session.get(self.url(path, **options), timeout=30)

    def get(self, path, **options):
        options.setdefault("_format", "json")
        response = self.raw(path, **options)
        assert response.status_code == 200, response.text
        return response.json()

    def values(self, path, **options):
        return self.get(path, **options)["value"]

    def control(self, method, route, body=None):
        response = self.session.request(method, self.emu.base_url + "/_emulator/" + route, json=body, timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()


@pytest.fixture(scope="session")
def emu():
    emulator = OneCEmulator(host="127.0.0.1", port=0, size="small", seed=1)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def odata(emu):
    return OData(emu)


@pytest.fixture(scope="session")
def cases(emu):
    return emu.cases()
