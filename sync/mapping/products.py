"""1С «Номенклатура» → Bitrix24 catalog product (or service) fields and its sale price (pure).

The sale price is not a product field in Bitrix24: it is a ``catalog.price`` row of the portal's base price type
(reference bitrix24-rest.md §3.6, §9.12), so the payload carries it separately, with its own content hash —
a price-only change in 1С becomes exactly one price write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sync.onec.records import Price, Product

from .payloads import Problem, content_hash

NAME_MAX = 255
HOME_CURRENCY = "RUB"


@dataclass(frozen=True)
class CatalogSetup:
    """What the portal's catalog looks like, read once per run (catalog.catalog/priceType/measure/vat lists)."""

    iblock_id: int
    base_price_type_id: int | None
    measures: dict[str, int] = field(default_factory=dict)  # OKEI code (normalised, see okei_key) → measure id
    vats: dict[str, int] = field(default_factory=dict)  # rate ("20", "0"; "" = без НДС) → catalog_vat id
    currencies: frozenset[str] | None = None  # currencies known to the portal; None = not known, do not check
    inventory_accounting: bool = False  # purchasingPrice is read-only with inventory accounting on


@dataclass(frozen=True)
class SalePricePayload:
    catalog_group_id: int
    amount: Decimal
    currency: str

    def fields(self, product_id) -> dict:
        return {"productId": product_id, "catalogGroupId": self.catalog_group_id, "price": float(self.amount),
                "currency": self.currency}


@dataclass(frozen=True)
class ProductPayload:
    """One 1С product as the catalog sees it; ``fields`` is None when it cannot be sent at all."""

    onec_ref: str
    label: str
    is_service: bool
    fields: dict | None
    price: SalePricePayload | None = None
    deleted: bool = False
    sale_source: str = ""
    purchase_source: str = ""
    problems: tuple[Problem, ...] = ()

    @property
    def fields_hash(self) -> str:
        return content_hash({"fields": self.fields, "service": self.is_service})

    @property
    def price_hash(self) -> str:
        return content_hash(self.price) if self.price else ""

    @property
    def state(self) -> dict:
        """What the product's sync status shows: where each price came from."""
        return {"label": self.label, "service": self.is_service, "sale_price_source": self.sale_source,
                "purchase_price_source": self.purchase_source}


def product_label(product: Product) -> str:
    return f"{product.code.strip()} {product.name.strip()}".strip() or product.ref


def okei_key(code: str) -> str:
    """OKEI codes compare as numbers: "006", "6" and " 006" are the same unit."""
    code = (code or "").strip()
    if not code.isdigit():
        return code
    return code.lstrip("0") or "0"


def vat_key(rate: Decimal | float | None) -> str:
    return "" if rate is None else f"{Decimal(str(rate)).normalize():f}"


def product_to_payload(product: Product, setup: CatalogSetup) -> ProductPayload:
    """Catalog fields we own (name, xmlId, active, measure, VAT, purchase price) and the sale price."""
    label = product_label(product)
    problems: list[Problem] = []
    name = (product.name.strip() or product.full_name.strip())
    if not name:
        problems.append(Problem("empty_name", "У номенклатуры пустое наименование: без него товар нельзя создать "
                                              "в каталоге Битрикс24."))
        return ProductPayload(product.ref, label, product.is_service, None, problems=tuple(problems))
    if len(name) > NAME_MAX:
        problems.append(Problem("too_long", f"Наименование длиннее {NAME_MAX} символов: обрезано при передаче."))
        name = name[:NAME_MAX]
    fields: dict = {"name": name, "xmlId": product.ref, "active": "N" if product.deletion_mark else "Y"}
    if product.deletion_mark:
        problems.append(Problem("deleted_in_1c", "Номенклатура помечена на удаление в 1С: в каталоге Битрикс24 "
                                                 "товар деактивирован (не удален), а новый не создается."))
    _measure(product, setup, fields, problems)
    _vat(product, setup, fields, problems)
    if product.sale_price is not None:  # describes the catalog (sale) price; without one there is nothing to say
        fields["vatIncluded"] = "Y" if product.sale_price.includes_vat else "N"
    if not product.is_service:  # services have no purchase price in the catalog (catalog.product.service.add)
        _purchase(product.purchase_price, setup, fields, problems)
    problems += [Problem("price_problem", _sentence(p)) for p in product.price_problems]
    price = _sale_price(product.sale_price, setup, problems)
    return ProductPayload(
        product.ref, label, product.is_service, fields, price, deleted=product.deletion_mark,
        sale_source=product.sale_price.source if product.sale_price else "",
        purchase_source=product.purchase_price.source if product.purchase_price else "",
        problems=tuple(problems),
    )


def _measure(product: Product, setup: CatalogSetup, fields: dict, problems: list[Problem]) -> None:
    code = okei_key(product.unit_okei_code)
    if not code:
        problems.append(Problem("no_unit", "Единица измерения не задана в 1С: товар передан без единицы "
                                           "(на портале будет единица по умолчанию)."))
        return
    measure_id = setup.measures.get(code)
    if measure_id is None:
        unit = f"«{product.unit_name.strip()}» " if product.unit_name.strip() else ""
        problems.append(Problem("unknown_unit", f"Единица измерения {unit}(код ОКЕИ {product.unit_okei_code.strip()}) "
                                                "не заведена на портале: товар передан без единицы измерения."))
        return
    fields["measure"] = measure_id


def _vat(product: Product, setup: CatalogSetup, fields: dict, problems: list[Problem]) -> None:
    """The product's VAT rate when the portal has it. VAT is not among the spec's product fields and legacy
    1С items often keep an old rate (НДС18) the portal no longer has: then no rate and no per-product problem —
    deal rows still carry each document line's own rate."""
    vat_id = setup.vats.get(vat_key(product.vat_rate))
    if vat_id is not None:
        fields["vatId"] = vat_id


def _purchase(price: Price | None, setup: CatalogSetup, fields: dict, problems: list[Problem]) -> None:
    if price is None or setup.inventory_accounting:
        return
    if price.amount <= 0:
        problems.append(Problem("bad_purchase_price", f"Закупочная цена {_money(price)} ({price.source}) не больше "
                                                      "нуля: не передана."))
        return
    if not _currency_known(price.currency_code, setup):
        problems.append(Problem("unknown_currency", f"Валюты {price.currency_code or '(не указана)'} закупочной цены "
                                                    "нет на портале: закупочная цена не передана."))
        return
    fields["purchasingPrice"] = float(price.amount)
    fields["purchasingCurrency"] = price.currency_code


def _sale_price(price: Price | None, setup: CatalogSetup, problems: list[Problem]) -> SalePricePayload | None:
    if price is None:
        problems.append(Problem("no_sale_price", "Цена продажи не найдена: товар передан без цены."))
        return None
    if price.amount == 0:
        problems.append(Problem("zero_price", f"Цена продажи равна нулю ({price.source}): товар передан без цены."))
        return None
    if price.amount < 0:
        problems.append(Problem("negative_price", f"Цена продажи отрицательная: {_money(price)} ({price.source}) — "
                                                  "товар передан без цены."))
        return None
    if not _currency_known(price.currency_code, setup):
        problems.append(Problem("unknown_currency", f"Валюты {price.currency_code or '(не указана)'} цены продажи "
                                                    "нет на портале: товар передан без цены."))
        return None
    if setup.base_price_type_id is None:
        problems.append(Problem("no_base_price_type", "На портале нет базового типа цен: цена продажи не передана."))
        return None
    if price.currency_code != HOME_CURRENCY:
        problems.append(Problem("foreign_currency", f"Цена продажи в валюте {price.currency_code}, не в рублях: "
                                                    f"передана как есть, {_money(price)} ({price.source})."))
    return SalePricePayload(setup.base_price_type_id, price.amount.quantize(Decimal("0.01")), price.currency_code)


def _currency_known(code: str, setup: CatalogSetup) -> bool:
    return bool(code) and (setup.currencies is None or code in setup.currencies)


def _money(price: Price) -> str:
    return f"{price.amount:.2f} {price.currency_code}".strip()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
