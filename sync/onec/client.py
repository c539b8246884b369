"""Thin read-only client of the 1С standard OData interface (v3, JSON, Basic auth, paging, retries)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from urllib.parse import quote

import requests

from .errors import (
    OneCAuthError,
    OneCError,
    OneCNotOData,
    OneCNotPublished,
    OneCQueryError,
    OneCTimeout,
    OneCUnavailable,
)

DEFAULT_TIMEOUT = 60
DEFAULT_PAGE_SIZE = 1000
MAX_URL_LENGTH = 7000
RETRY_STATUSES = {500, 502, 503, 504}
# Characters kept literally in paths and query values; everything else (Cyrillic, space → %20, '+', '&',
# '#', '%') is percent-encoded. 1С does not decode '+' as a space.
SAFE_CHARS = "'(),:=/*$!-._~"


class OneCStats:
    """Counts HTTP requests sent to 1С (retries included)."""

    def __init__(self):
        self.requests = 0

    def add_onec_request(self):
        self.requests += 1


# ---------------------------------------------------------------- literals


def guid(value: str) -> str:
    return f"guid'{value}'"


def datetime_literal(value: datetime | date) -> str:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return f"datetime'{value:%Y-%m-%dT%H:%M:%S}'"


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def cast(value: str, entity_type: str) -> str:
    """cast(guid'…','Document_ЗаказПокупателя') for composite attributes, Recorder and multi-owner Owner."""
    return f"cast(guid'{value}','{entity_type}')"


def ref_equals(key: str, value: str, key_type: str | None = None) -> str:
    literal = cast(value, key_type) if key_type else guid(value)
    return f"{key} eq {literal}"


def encode(text: str) -> str:
    return quote(text, safe=SAFE_CHARS)


def select_text(select: str | Iterable[str] | None) -> str | None:
    if select is None or isinstance(select, str):
        return select
    return ",".join(select)


def entity_set_of(path: str) -> str:
    """'InformationRegister_X/SliceLast(...)' → 'InformationRegister_X'."""
    return path.split("/", 1)[0].split("(", 1)[0]


def onec_message(payload) -> str:
    """The text of {"odata.error": {"message": {"value": …}}}, or ''."""
    try:
        return str(payload["odata.error"]["message"]["value"])
    except (KeyError, TypeError):
        return ""


class ODataClient:
    """GETs against one publication: …/odata/standard.odata/ (never writes)."""

    def __init__(self, base_url: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT,
                 page_size: int = DEFAULT_PAGE_SIZE, stats=None, session: requests.Session | None = None,
                 retries: int = 4, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/") + "/"
        self.user = user
        self.timeout = timeout
        self.page_size = page_size
        self.stats = stats
        self.retries = max(1, retries)
        self.backoff = backoff
        self.session = session or requests.Session()
        self.headers = {"Authorization": basic_auth(user, password), "Accept": "application/json"}

    # ------------------------------------------------------------ raw requests

    def url(self, path: str, params: dict | None = None) -> str:
        query = {**(params or {}), "$format": "json"}
        pairs = "&".join(f"{encode(k)}={encode(str(v))}" for k, v in query.items() if v is not None)
        return f"{self.base_url}{encode(path)}?{pairs}"

    def get(self, path: str, params: dict | None = None) -> dict:
        """GET path (relative to the publication) and return the decoded JSON object."""
        response = self.send(path, params)
        payload = self.json_of(response, path)
        if not isinstance(payload, dict):
            raise OneCNotOData(self.base_url, "ответ не является объектом JSON")
        return payload

    def send(self, path: str, params: dict | None = None) -> requests.Response:
        url = self.url(path, params)
        for attempt in range(1, self.retries + 1):
            try:
                response = self.attempt(url)
            except requests.Timeout as exc:
                if attempt == self.retries:
                    raise OneCTimeout(f"1С не ответила за {self.timeout:g} с на запрос {path} "
                                      f"(попыток: {attempt}).") from exc
            except requests.RequestException as exc:
                if attempt == self.retries:
                    raise OneCUnavailable(f"1С недоступна по адресу {self.base_url}: {exc}") from exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self.checked(response, path)
                if attempt == self.retries:
                    raise OneCUnavailable(f"1С вернула ошибку HTTP {response.status_code} на запрос {path} "
                                          f"(попыток: {attempt}): {self.error_text(response)}")
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def attempt(self, url: str) -> requests.Response:
        if self.stats is not None:
            self.stats.add_onec_request()
        return self.session.get(url, headers=self.headers, timeout=self.timeout)

    def checked(self, response: requests.Response, path: str) -> requests.Response:
        status = response.status_code
        if status in (401, 403):
            raise OneCAuthError(self.user, status)
        if status == 404:
            raise self.not_found(response, path)
        if status == 400:
            raise OneCQueryError(path, self.error_text(response))
        if status >= 400:
            raise OneCError(f"1С вернула ошибку HTTP {status} на запрос {path}: {self.error_text(response)}")
        return response

    def not_found(self, response: requests.Response, path: str) -> OneCError:
        """A 1С 404 with an OData error body = the entity set is not published; anything else = not OData."""
        if not self.is_json(response):
            return OneCNotOData(self.base_url, f"HTTP 404, {content_type(response) or 'без типа содержимого'}")
        return OneCNotPublished(entity_set_of(path)) if entity_set_of(path) else OneCNotOData(self.base_url)

    def json_of(self, response: requests.Response, path: str):
        if not self.is_json(response):
            raise OneCNotOData(self.base_url, f"получен {content_type(response) or 'ответ без типа'} "
                                              f"вместо JSON на запрос {path}")
        try:
            return response.json()
        except ValueError as exc:
            raise OneCNotOData(self.base_url, f"ответ на запрос {path} не является JSON") from exc

    @staticmethod
    def is_json(response: requests.Response) -> bool:
        kind = content_type(response)
        if "json" in kind:
            return True
        return not kind and response.content[:1] in (b"{", b"[")

    def error_text(self, response: requests.Response) -> str:
        if self.is_json(response):
            try:
                message = onec_message(response.json())
            except ValueError:
                message = ""
            if message:
                return message
        return response.text[:300].strip() or response.reason or ""

    # ------------------------------------------------------------ collections

    def iter_rows(self, entity_set: str, *, select, filter: str | None = None, orderby: str | None = "Ref_Key",
                  page_size: int | None = None, params: dict | None = None) -> Iterator[dict]:
        """All rows of a collection, paged with $top/$skip over a stable $orderby (no $orderby = one request)."""
        top = page_size or self.page_size
        base = {"$select": select_text(select), "$filter": filter, **(params or {})}
        if not orderby:
            yield from self.collection(entity_set, base)
            return
        skip = 0
        while True:
            page = self.collection(entity_set, {**base, "$orderby": orderby, "$top": top, "$skip": skip})
            yield from page
            if len(page) < top:
                return
            skip += top

    def collection(self, path: str, params: dict) -> list[dict]:
        payload = self.get(path, params)
        rows = payload.get("value")
        if not isinstance(rows, list):
            raise OneCNotOData(self.base_url, f"в ответе на запрос {path} нет списка value")
        return rows

    def rows_by_refs(self, entity_set: str, refs: Iterable[str], *, select, key: str = "Ref_Key",
                     key_type: str | None = None, chunk: int = 40, filter: str | None = None,
                     orderby: str | None = "Ref_Key") -> Iterator[dict]:
        """Rows whose key is one of refs, in OR-chains of at most `chunk` refs and ~7 KB of URL."""
        for group in self.ref_chunks(entity_set, refs, key, key_type, chunk, select, filter):
            condition = " or ".join(ref_equals(key, r, key_type) for r in group)
            text = f"({condition}) and ({filter})" if filter else condition
            yield from self.iter_rows(entity_set, select=select, filter=text, orderby=orderby)

    def ref_chunks(self, entity_set, refs, key, key_type, chunk, select, filter) -> Iterator[list[str]]:
        budget = MAX_URL_LENGTH - len(self.url(entity_set, {"$select": select_text(select), "$filter": filter,
                                                             "$orderby": "Ref_Key", "$top": 1, "$skip": 1}))
        group, used = [], 0
        for ref in dict.fromkeys(r for r in refs if r):
            cost = len(encode(" or " + ref_equals(key, ref, key_type)))
            if group and (len(group) >= chunk or used + cost > budget):
                yield group
                group, used = [], 0
            group.append(ref)
            used += cost
        if group:
            yield group

    def count(self, entity_set: str, filter: str | None = None) -> int:
        """Number of rows via the /$count segment (1С answers with a bare number)."""
        path = f"{entity_set}/$count"
        response = self.send(path, {"$filter": filter} if filter else None)
        body = response.text.strip().lstrip("\ufeff")
        try:
            return int(float(body))
        except ValueError:
            pass
        payload = self.json_of(response, path)
        value = payload.get("value") if isinstance(payload, dict) else payload
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise OneCNotOData(self.base_url, f"непонятный ответ на запрос {path}") from exc

    # ------------------------------------------------------------ virtual tables

    def slice_last(self, register: str, period: datetime | None = None, condition: str | None = None,
                   select=None, *, orderby: str | None = None, page_size: int | None = None) -> list[dict]:
        """InformationRegister_X/SliceLast(Period=…, Condition='…'); paged when orderby is given."""
        path = f"{register}/SliceLast({virtual_params(Period=period, Condition=condition)})"
        return list(self.iter_rows(path, select=select, orderby=orderby, page_size=page_size))

    def balance(self, register: str, condition: str | None = None, dimensions: Iterable[str] | None = None,
                select=None, *, period: datetime | None = None) -> list[dict]:
        """AccumulationRegister_X/Balance(Period=…, Condition='…', Dimensions='…') — current balance by default."""
        dims = ",".join(dimensions) if dimensions else None
        path = f"{register}/Balance({virtual_params(Period=period, Condition=condition, Dimensions=dims)})"
        return list(self.iter_rows(path, select=select, orderby=None))


def virtual_params(**values) -> str:
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        literal = datetime_literal(value) if isinstance(value, date) else string_literal(str(value))
        parts.append(f"{name}={literal}")
    return ",".join(parts)


def basic_auth(user: str, password: str) -> str:
    """Preemptive Basic credentials; 1С expects UTF-8 (Cyrillic user names are common)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def content_type(response: requests.Response) -> str:
    return (response.headers.get("Content-Type") or "").lower()
