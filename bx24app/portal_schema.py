"""What the app creates in every portal: the four logical deal stages and the deal user fields."""

from dataclasses import dataclass

from .bitrix.client import BitrixClient
from .bitrix.errors import PortalNeedsReauth
from .bitrix.stats import RequestStats

ROBOT_CODE = "onec_payment_notify"
ROBOT_HANDLER_PATH = "/bitrix/robots/payment-notify/"
EVENTS_HANDLER_PATH = "/bitrix/events/"
BOUND_EVENTS = ("ONAPPUNINSTALL", "ONCRMDEALUPDATE")


@dataclass(frozen=True)
class LogicalStage:
    """A deal stage the sync reasons about, created in the configured pipeline on install."""

    code: str
    name: str
    status_id: str
    sort: int
    color: str = "#39A8EF"


@dataclass(frozen=True)
class DealField:
    """A deal user field the sync fills."""

    field_name: str
    user_type_id: str
    label_ru: str
    label_en: str

    @property
    def label(self) -> str:
        return self.label_ru

    @property
    def user_type(self) -> str:
        return self.user_type_id


LOGICAL_STAGES: list[LogicalStage] = [
    LogicalStage("ORDER_RECEIVED", "Заявка получена, подготовка счета", "ONEC_ORDER", 15, "#2FC6F6"),
    LogicalStage("INVOICE_SENT", "Счет отправлен, ожидание оплаты", "ONEC_INVOICE", 25, "#55D0E0"),
    LogicalStage("PAID", "Счет оплачен", "ONEC_PAID", 35, "#7BD500"),
    LogicalStage("SHIPPED_UNPAID", "Отгрузка, без оплаты", "ONEC_SHIPPED", 45, "#FFA900"),
]

DEAL_FIELDS: dict[str, DealField] = {
    "order_number": DealField("UF_CRM_ONEC_ORDER_NUM", "string", "Номер заказа 1С", "1C order number"),
    "order_date": DealField("UF_CRM_ONEC_ORDER_DATE", "date", "Дата заказа 1С", "1C order date"),
    "invoice_number": DealField("UF_CRM_ONEC_INVOICE_NUM", "string", "Номер счета", "Invoice number"),
    "invoice_date": DealField("UF_CRM_ONEC_INVOICE_DATE", "date", "Дата счета", "Invoice date"),
    "invoice_amount": DealField("UF_CRM_ONEC_INVOICE_SUM", "money", "Сумма счета", "Invoice amount"),
    "payment_date": DealField("UF_CRM_ONEC_PAYMENT_DATE", "date", "Дата оплаты", "Payment date"),
    "paid_amount": DealField("UF_CRM_ONEC_PAID_SUM", "money", "Оплаченная сумма, руб.", "Paid amount, RUB"),
    "realization_date": DealField("UF_CRM_ONEC_SHIP_DATE", "date", "Дата реализации", "Shipment date"),
    "realization_number": DealField("UF_CRM_ONEC_SHIP_NUM", "string", "Номер реализации", "Shipment number"),
    "realization_amount": DealField("UF_CRM_ONEC_SHIP_SUM", "money", "Сумма реализации", "Shipment amount"),
    "legal_entity": DealField("UF_CRM_ONEC_LEGAL_ENTITY", "string", "Юр. лицо (организация 1С)",
                              "Legal entity (1C organization)"),
}


def stage_prefix(category_id: int) -> str:
    """Stage IDs outside the general pipeline carry ``C<n>:`` (reference §3.8)."""
    return "" if int(category_id) == 0 else f"C{int(category_id)}:"


def stage_entity_id(category_id: int) -> str:
    return "DEAL_STAGE" if int(category_id) == 0 else f"DEAL_STAGE_{int(category_id)}"


def portal_stage_id(stage: LogicalStage, category_id: int) -> str:
    return stage_prefix(category_id) + stage.status_id


def portal_require_active(portal) -> None:
    """Raise PortalNeedsReauth (with the visible reason) unless the portal may be called."""
    if not portal.is_active:
        raise PortalNeedsReauth("PORTAL_NOT_ACTIVE", portal.status_reason or portal.get_status_display())


def portal_client(portal, stats: RequestStats | None = None) -> BitrixClient:
    """The REST client of an active portal."""
    portal_require_active(portal)
    return BitrixClient(portal, stats=stats)
