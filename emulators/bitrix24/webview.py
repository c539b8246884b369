"""Read-only HTML view of the portals (Russian labels, escaped output), for demos and debugging."""

import re
from html import escape

STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}th{background:#eef3f8}
nav a{margin-right:1em}.card{border:1px solid #bcd;border-radius:4px;padding:4px;margin:4px 0;background:#f8fbff}
.muted{color:#888}"""
NAV = [
    ("/crm/company/", "Компании"),
    ("/crm/contact/", "Контакты"),
    ("/crm/deal/", "Сделки"),
    ("/crm/product/", "Товары"),
    ("/notifications/", "Уведомления"),
]


def render(emulator, path, params):
    """Return ``(status, html)`` for a web view path."""
    if path in ("", "/"):
        return 200, _page("Порталы", _portal_list(emulator), None)
    portal = _select_portal(emulator, params.get("member_id"))
    if portal is None:
        return 404, _page("Нет портала", "<p>Портал не найден. Создайте его через /_emulator/portals.</p>", None)
    with emulator.store.lock:
        return _render_portal_page(portal, path)


def _render_portal_page(portal, path):
    detail = re.fullmatch(r"/crm/deal/details/(\d+)/?", path)
    if detail:
        return _deal_details(portal, detail.group(1))
    pages = {
        "/crm/company/": ("Компании", _companies),
        "/crm/contact/": ("Контакты", _contacts),
        "/crm/deal/": ("Сделки", _deals),
        "/crm/product/": ("Товары", _products),
        "/notifications/": ("Уведомления", _notifications),
    }
    normalized = path if path.endswith("/") else path + "/"
    if normalized not in pages:
        return 404, _page("Не найдено", "<p>Страница не найдена.</p>", portal)
    title, builder = pages[normalized]
    return 200, _page(title, builder(portal), portal)


def _select_portal(emulator, member_id):
    if member_id:
        return emulator.store.portal(member_id)
    return emulator.store.first_portal()


# ---- layout -------------------------------------------------------------------------------------
def _page(title, body, portal):
    suffix = f"?member_id={escape(portal['member_id'])}" if portal else ""
    nav = "".join(f'<a href="{href}{suffix}">{escape(label)}</a>' for href, label in NAV)
    where = f" — {escape(portal['domain'])} ({escape(portal['member_id'])})" if portal else ""
    return (
        f"<!doctype html><html lang='ru'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><nav><a href='/'>Порталы</a>{nav}</nav>"
        f"<h1>{escape(title)}{where}</h1>{body}</body></html>"
    )


def _table(headers, rows):
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>" if rows else "<p class='muted'>Пусто.</p>"


def _e(value):
    return escape("" if value is None else str(value))


def _fm(item, type_id):
    return "<br>".join(_e(f["value"]) for f in item.get("fm", []) if f["typeId"] == type_id)


# ---- pages --------------------------------------------------------------------------------------
def _portal_list(emulator):
    with emulator.store.lock:
        rows = [
            [
                f"<a href='/crm/deal/?member_id={_e(p['member_id'])}'>{_e(p['member_id'])}</a>",
                _e(p["domain"]),
                _e(p["license_family"]),
                "да" if p.get("installed", True) else "нет",
                _e(len(p["items"]["4"])),
                _e(len(p["items"]["3"])),
                _e(len(p["items"]["2"])),
            ]
            for p in emulator.store.portals.values()
        ]
    return _table(["member_id", "Домен", "Тариф", "Установлено", "Компаний", "Контактов", "Сделок"], rows)


def _requisites_of(portal, type_id, item_id):
    rows = [
        r
        for r in portal["requisites"].values()
        if r["ENTITY_TYPE_ID"] == str(type_id) and r["ENTITY_ID"] == str(item_id)
    ]
    return "<br>".join(f"{_e(r['NAME'])}: ИНН {_e(r.get('RQ_INN'))} КПП {_e(r.get('RQ_KPP'))}" for r in rows)


def _companies(portal):
    rows = [
        [
            _e(c["id"]),
            _e(c.get("title")),
            _fm(c, "PHONE"),
            _fm(c, "EMAIL"),
            _requisites_of(portal, 4, c["id"]),
            _e(c.get("originId")),
        ]
        for c in portal["items"]["4"].values()
    ]
    return _table(["ID", "Название", "Телефоны", "E-mail", "Реквизиты", "Внешний код"], rows)


def _contacts(portal):
    rows = [
        [
            _e(c["id"]),
            _e(" ".join(filter(None, [c.get("lastName"), c.get("name"), c.get("secondName")]))),
            _e(c.get("companyId") or ""),
            _fm(c, "PHONE"),
            _fm(c, "EMAIL"),
            _e(c.get("originId")),
        ]
        for c in portal["items"]["3"].values()
    ]
    return _table(["ID", "ФИО", "Компания", "Телефоны", "E-mail", "Внешний код"], rows)


def _deal_link(portal, deal):
    href = f"/crm/deal/details/{deal['id']}/?member_id={_e(portal['member_id'])}"
    return (
        f"<div class='card'><a href='{href}'>{_e(deal.get('title'))}</a><br>{_e(deal.get('opportunity'))} "
        f"{_e(deal.get('currencyId'))}</div>"
    )


def _deals(portal):
    parts = []
    for category in sorted(portal["categories"].values(), key=lambda c: (int(c["sort"]), int(c["id"]))):
        entity = "DEAL_STAGE" if int(category["id"]) == 0 else f"DEAL_STAGE_{category['id']}"
        stages = sorted(
            (s for s in portal["statuses"].values() if s["ENTITY_ID"] == entity), key=lambda s: int(s["SORT"])
        )
        deals = list(portal["items"]["2"].values())
        cells = ["".join(_deal_link(portal, d) for d in deals if d.get("stageId") == s["STATUS_ID"]) for s in stages]
        head = "".join(f"<th style='border-top:4px solid {_e(s['COLOR'])}'>{_e(s['NAME'])}</th>" for s in stages)
        body = "".join(f"<td>{cell}</td>" for cell in cells)
        parts.append(f"<h2>Воронка «{_e(category['name'])}»</h2><table><tr>{head}</tr><tr>{body}</tr></table>")
    return "".join(parts)


def _deal_details(portal, deal_id):
    deal = portal["items"]["2"].get(deal_id)
    if deal is None:
        return 404, _page("Сделка не найдена", "", portal)
    fields = _table(["Поле", "Значение"], [[_e(k), _e(v)] for k, v in deal.items()])
    rows = _table(
        ["Товар", "Цена", "Кол-во", "Ед."],
        [
            [_e(r["productName"]), _e(r["price"]), _e(r["quantity"]), _e(r["measureName"])]
            for r in portal["product_rows"].get(deal_id, [])
        ],
    )
    history = _table(
        ["Когда", "Стадия", "Из", "Пользователь"],
        [
            [_e(h["CREATED_TIME"]), _e(h["STAGE_ID"]), _e(h["FROM_STAGE_ID"]), _e(h["USER_ID"])]
            for h in portal["stage_history"]
            if str(h["OWNER_ID"]) == deal_id
        ],
    )
    body = f"{fields}<h2>Товары</h2>{rows}<h2>История стадий</h2>{history}"
    return 200, _page(f"Сделка {deal.get('title', deal_id)}", body, portal)


def _products(portal):
    measures = {str(m["id"]): m["symbol"] for m in portal["measures"].values()}
    rows = []
    for product in portal["products"].values():
        prices = [p for p in portal["prices"].values() if p["productId"] == product["id"]]
        price_text = "<br>".join(
            f"{_e(portal['price_types'][str(p['catalogGroupId'])]['name'])}: {_e(p['price'])} {_e(p['currency'])}"
            for p in prices
        )
        rows.append(
            [
                _e(product["id"]),
                _e(product["name"]),
                _e(product.get("xmlId")),
                _e(measures.get(str(product.get("measure")), "")),
                price_text,
                _e(product.get("active")),
            ]
        )
    return _table(["ID", "Название", "Внешний код", "Ед.", "Цены", "Активен"], rows)


def _notifications(portal):
    rows = []
    for user_id, notes in portal["notifications"].items():
        user = portal["users"].get(user_id, {})
        for note in notes:
            rows.append(
                [
                    _e(note["DATE"]),
                    _e(f"{user.get('NAME', '')} {user.get('LAST_NAME', '')}"),
                    _e(note["MESSAGE"]),
                    _e(note["TAG"]),
                ]
            )
    return _table(["Когда", "Кому", "Сообщение", "TAG"], rows)
