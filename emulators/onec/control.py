"""Control and mutation routes under /_emulator/ (cases, bad records, stats, faults, what a 1С user does)."""

import re

from .errors import ODataError, bad_request
from .mutations import COUNTERPARTIES, PRODUCTS
from .posting import ORDER

REF = r"([0-9a-fA-F-]{36})"
ROUTES = []


def route(method, pattern):
    def register(fn):
        ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn
    return register


def dispatch(emulator, method, path, body):
    """(status, JSON body) for a control route; raises ODataError for bad input."""
    for route_method, regex, fn in ROUTES:
        m = regex.match(path)
        if m and route_method == method:
            with emulator.store.lock:
                return fn(emulator, body if isinstance(body, dict) else {}, *m.groups())
    if any(regex.match(path) for _, regex, _ in ROUTES):
        raise ODataError(405, f"Метод {method} не поддерживается для {path}")
    raise ODataError(404, f"Не найден ресурс \"{path}\"")


def require(body, *names):
    missing = [n for n in names if body.get(n) in (None, "")]
    if missing:
        raise bad_request(f"Не заполнены обязательные поля: {', '.join(missing)}")


# ---------------------------------------------------------------- listings, stats and faults


@route("GET", "/_emulator/cases")
def get_cases(emu, body):
    return 200, emu.cases()


@route("GET", "/_emulator/bad-records")
def get_bad_records(emu, body):
    return 200, emu.bad_records()


@route("GET", "/_emulator/stats")
def get_stats(emu, body):
    return 200, emu.stats.snapshot()


@route("POST", "/_emulator/stats/reset")
def reset_stats(emu, body):
    emu.stats.reset()
    return 200, emu.stats.snapshot()


@route("POST", "/_emulator/faults")
def set_faults(emu, body):
    if "fault_rate" in body:
        emu.fault_rate = float(body["fault_rate"])
    if "latency_ms" in body:
        emu.latency_ms = int(body["latency_ms"])
    return 200, {"fault_rate": emu.fault_rate, "latency_ms": emu.latency_ms}


# ---------------------------------------------------------------- counterparties and products


@route("POST", "/_emulator/counterparties")
def create_counterparty(emu, body):
    require(body, "name")
    obj = emu.ops.create_counterparty(
        body["name"], body.get("full_name"), body.get("inn", ""), body.get("kpp", ""), body.get("kind", "ЮрЛицо"),
        phone=body.get("phone"), email=body.get("email"), parent=body.get("parent"),
    )
    return 201, {"ref": obj["Ref_Key"], "code": obj["Code"], "data_version": obj["DataVersion"]}


@route("PATCH", f"/_emulator/counterparties/{REF}")
def patch_counterparty(emu, body, ref):
    obj = emu.ops.patch(COUNTERPARTIES, ref.lower(), body)
    return 200, {"ref": obj["Ref_Key"], "data_version": obj["DataVersion"]}


@route("PUT", f"/_emulator/counterparties/{REF}/contact-info")
def put_contact_info(emu, body, ref):
    require(body, "type", "kind_code")
    row = emu.ops.set_contact_info(COUNTERPARTIES, ref.lower(), body["type"], body["kind_code"],
                                   str(body.get("value", "")), body.get("fields"))
    obj = emu.store.get(COUNTERPARTIES, ref.lower())
    return 200, {"ref": obj["Ref_Key"], "data_version": obj["DataVersion"], "record": row}


@route("POST", "/_emulator/products")
def create_product(emu, body):
    require(body, "name")
    obj = emu.ops.create_product(body["name"], service=bool(body.get("service")),
                                 unit_code=body.get("unit_code", "356" if body.get("service") else "796"),
                                 article=body.get("article", ""), full_name=body.get("full_name"))
    return 201, {"ref": obj["Ref_Key"], "code": obj["Code"], "data_version": obj["DataVersion"]}


@route("PATCH", f"/_emulator/products/{REF}")
def patch_product(emu, body, ref):
    obj = emu.ops.patch(PRODUCTS, ref.lower(), body)
    return 200, {"ref": obj["Ref_Key"], "data_version": obj["DataVersion"]}


@route("POST", "/_emulator/prices")
def set_price(emu, body):
    require(body, "product", "price_type", "price")
    doc = emu.ops.set_prices([(body["product"].lower(), body["price_type"], body["price"], body.get("currency"),
                               body.get("percent", 0))], body.get("period"))
    return 201, {"ref": doc["Ref_Key"], "number": doc["Number"], "date": doc["Date"]}


# ---------------------------------------------------------------- orders and their documents


@route("POST", "/_emulator/orders")
def create_order(emu, body):
    require(body, "counterparty", "lines")
    lines = [{**line, "product": str(line.get("product", "")).lower()} for line in body["lines"]]
    order = emu.ops.create_order(body["counterparty"].lower(), lines, contract=body.get("contract"),
                                 posted=body.get("posted", True), date=body.get("date"))
    return 201, document_answer(order)


@route("POST", f"/_emulator/orders/{REF}/invoice")
def create_invoice(emu, body, ref):
    return 201, document_answer(emu.ops.create_invoice(ref.lower(), body.get("date")))


@route("POST", f"/_emulator/orders/{REF}/payment")
def create_payment(emu, body, ref):
    doc = emu.ops.create_payment(ref.lower(), body.get("kind", "bank"), body.get("against", "order"),
                                 body.get("amount"), body.get("date"))
    return 201, document_answer(doc)


@route("POST", f"/_emulator/orders/{REF}/realization")
def create_realization(emu, body, ref):
    lines = body.get("lines")
    if lines:
        lines = [{**line, "product": str(line.get("product", "")).lower()} for line in lines]
    return 201, document_answer(emu.ops.create_realization(ref.lower(), lines, body.get("date")))


@route("POST", f"/_emulator/orders/{REF}/close")
def close_order(emu, body, ref):
    return 201, document_answer(emu.ops.close_order(ref.lower(), body.get("date")))


# ---------------------------------------------------------------- any object


@route("POST", f"/_emulator/objects/([^/]+)/{REF}/deletion-mark")
def deletion_mark(emu, body, set_name, ref):
    obj = emu.ops.set_deletion_mark(checked_set(emu, set_name), ref.lower(), body.get("value", True))
    return 200, object_answer(obj)


@route("POST", f"/_emulator/objects/([^/]+)/{REF}/unpost")
def unpost(emu, body, set_name, ref):
    return 200, object_answer(emu.ops.unpost(checked_set(emu, set_name), ref.lower()))


@route("POST", f"/_emulator/objects/([^/]+)/{REF}/post")
def post(emu, body, set_name, ref):
    return 200, object_answer(emu.ops.post(checked_set(emu, set_name), ref.lower()))


def checked_set(emu, set_name):
    if set_name not in emu.store.objects:
        raise ODataError(404, f"Не найден ресурс \"{set_name}\"")
    return set_name


def document_answer(doc):
    return {"ref": doc["Ref_Key"], "number": doc["Number"], "date": doc["Date"], "posted": doc.get("Posted", False),
            "data_version": doc["DataVersion"]}


def object_answer(obj):
    answer = {"ref": obj["Ref_Key"], "data_version": obj["DataVersion"], "deletion_mark": obj.get("DeletionMark",
                                                                                                  False)}
    if "Number" in obj:
        answer["posted"] = obj.get("Posted", False)
    return answer


__all__ = ["dispatch", "ORDER"]
