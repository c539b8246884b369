"""Connection check of a 1С OData publication: credentials, published objects, data volumes, price types."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import counterparties, orders, products, users
from .client import ODataClient
from .errors import PUBLISH_HINT, OneCError, OneCNotOData, OneCNotPublished

VERSION_CONSTANT = "Constant_НомерВерсииКонфигурации"
RECOMMENDED_VERSION = (10, 3, 52, 2)
PRICE_TYPES = "Catalog_ТипыЦенНоменклатуры"


def required_entity_sets() -> tuple[str, ...]:
    """Every entity set the readers query (the publication must contain all of them)."""
    sets = counterparties.ENTITY_SETS + users.ENTITY_SETS + products.ENTITY_SETS + orders.ENTITY_SETS
    return tuple(dict.fromkeys(sets))


@dataclass
class ConnectionReport:
    url: str
    ok: bool = False
    error: str = ""
    counterparties: int | None = None
    products: int | None = None
    orders: int | None = None
    price_types: list[dict] = field(default_factory=list)  # {ref, name, calculated}
    missing_objects: list[str] = field(default_factory=list)
    configuration_version: str | None = None
    advice: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [f"Подключение к 1С ({self.url}): {'успешно' if self.ok else 'ошибка'}"]
        if self.error:
            lines.append(self.error)
        for label, value in (("Контрагентов", self.counterparties), ("Номенклатуры", self.products),
                             ("Заказов покупателей", self.orders)):
            if value is not None:
                lines.append(f"{label}: {value}")
        if self.price_types:
            names = ", ".join(p["name"] + (" (расчетный)" if p["calculated"] else "") for p in self.price_types)
            lines.append(f"Типы цен: {names}")
        if self.ok or self.configuration_version:
            version = self.configuration_version or "не определена (константа НомерВерсииКонфигурации не опубликована)"
            lines.append(f"Версия конфигурации: {version}")
        return lines + self.advice


def onec_connection_check(url: str, user: str, password: str, *, timeout: float = 15, stats=None,
                          session=None) -> ConnectionReport:
    """Check everything the sync needs from 1С; never raises for 1С problems (they go to .error)."""
    report = ConnectionReport(url=url)
    client = ODataClient(url, user, password, timeout=timeout, stats=stats, session=session, retries=2,
                         backoff=0.3)
    try:
        published = published_sets(client)
        report.missing_objects = confirm_missing(client, [n for n in required_entity_sets() if n not in published])
        published |= set(required_entity_sets()) - set(report.missing_objects)
        fill_volumes(client, report, published)
        report.configuration_version = configuration_version(client, published)
    except OneCError as exc:
        report.error = exc.message
        return report
    report.advice = version_advice(report.configuration_version)
    report.error = missing_objects_error(report.missing_objects, published)
    report.ok = not report.error
    return report


def published_sets(client: ODataClient) -> set[str]:
    """Names from the service document, which lists only the published entity sets."""
    payload = client.get("")
    entries = payload.get("value")
    if not isinstance(entries, list):
        raise OneCNotOData(client.base_url, "нет служебного документа OData со списком объектов")
    return {str(e.get("name") or e.get("url")) for e in entries if isinstance(e, dict)}


def confirm_missing(client: ODataClient, candidates: list[str]) -> list[str]:
    """Sets absent from the service document, probed one by one (a publication may not list tabular parts)."""
    if len(candidates) > 10:
        return candidates  # nothing or almost nothing is published: no point probing each one
    missing = []
    for name in candidates:
        try:
            client.get(name, {"$top": 1})
        except OneCNotPublished:
            missing.append(name)
    return missing


def fill_volumes(client: ODataClient, report: ConnectionReport, published: set[str]) -> None:
    if "Catalog_Контрагенты" in published:
        report.counterparties = client.count("Catalog_Контрагенты", "IsFolder eq false")
    if "Catalog_Номенклатура" in published:
        report.products = client.count("Catalog_Номенклатура", "IsFolder eq false")
    if "Document_ЗаказПокупателя" in published:
        report.orders = client.count("Document_ЗаказПокупателя")
    if PRICE_TYPES in published:
        report.price_types = [
            {"ref": r["Ref_Key"], "name": r.get("Description", ""), "calculated": bool(r.get("Рассчитывается"))}
            for r in client.iter_rows(PRICE_TYPES, select="Ref_Key,Description,Рассчитывается")
        ]


def configuration_version(client: ODataClient, published: set[str]) -> str | None:
    """Constant НомерВерсииКонфигурации when it is published, else None."""
    if VERSION_CONSTANT not in published:
        return None
    payload = client.get(VERSION_CONSTANT)
    rows = payload.get("value")
    if isinstance(rows, list):
        payload = rows[0] if rows else {}
    value = payload.get("Value")
    return str(value) if value else None


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def version_advice(version: str | None) -> list[str]:
    if not version or version_tuple(version) >= RECOMMENDED_VERSION:
        return []
    return [f"Рекомендуется обновить конфигурацию Управление торговлей 10.3 до версии 10.3.52.2: версия {version} "
            f"устаревшая, есть риск поломок интеграции."]


def missing_objects_error(missing: list[str], published: set[str]) -> str:
    if not missing:
        return ""
    if not published:
        return ("Стандартный интерфейс OData включён, но в его состав не добавлен ни один объект: "
                "задайте состав методом УстановитьСоставСтандартногоИнтерфейсаOData. Нужны объекты: "
                + ", ".join(missing) + ".")
    return "\n".join(f"Объект {name} не опубликован в стандартном интерфейсе OData: {PUBLISH_HINT}"
                     for name in missing)
