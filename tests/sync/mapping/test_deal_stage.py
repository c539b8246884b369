"""The deal stage as a function of 1С facts, and the forward-only move rule (plain data, no database)."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from bx24app.portal_schema import LOGICAL_STAGES
from sync.mapping.deal_stage import PROGRESS, next_stage, target_stage
from sync.onec.records import Invoice, OrderFacts, Payment, Realization

WHEN = datetime(2026, 11, 20, 10, 0)
ORDER = OrderFacts(ref="o1", version="v1", number="ТД00000001", date=WHEN, posted=True, deletion_mark=False,
                   counterparty_ref="c1", amount=Decimal("1000"), currency_code="RUB")
INVOICE = Invoice(ref="i1", number="СЧ-1", date=WHEN, amount=Decimal("1000"), currency_code="RUB")
PAYMENT = Payment(recorder_ref="p1", recorder_type="Document_ПлатежноеПоручениеВходящее", number="1", date=WHEN,
                  amount=Decimal("1000"))
REALIZATION = Realization(ref="r1", number="Р-1", date=WHEN, amount=Decimal("1000"), organization_name="ООО Торг")

STAGES = {"ORDER_RECEIVED": "C3:ONEC_ORDER", "INVOICE_SENT": "C3:ONEC_INVOICE", "PAID": "C3:ONEC_PAID",
          "SHIPPED_UNPAID": "C3:ONEC_SHIPPED"}
SEMANTICS = {"C3:NEW": "", "C3:ONEC_ORDER": "", "C3:ONEC_INVOICE": "", "C3:ONEC_PAID": "", "C3:ONEC_SHIPPED": "",
             "C3:EXECUTING": "", "C3:FINAL_INVOICE": "", "C3:WON": "S", "C3:LOSE": "F", "C3:APOLOGY": "F"}
SORT = {"C3:NEW": 10, "C3:ONEC_ORDER": 15, "C3:ONEC_INVOICE": 25, "C3:ONEC_PAID": 35, "C3:EXECUTING": 40,
        "C3:ONEC_SHIPPED": 45, "C3:FINAL_INVOICE": 50, "C3:WON": 60, "C3:LOSE": 70}


@pytest.mark.parametrize(("facts", "expected"), [
    (ORDER, "ORDER_RECEIVED"),
    (replace(ORDER, invoices=(INVOICE,)), "INVOICE_SENT"),
    (replace(ORDER, invoices=(INVOICE,), payments=(replace(PAYMENT, amount=Decimal(400)),),
             paid_amount=Decimal(400)), "INVOICE_SENT"),  # partial payment: fields only
    (replace(ORDER, invoices=(INVOICE,), payments=(PAYMENT,), paid_amount=Decimal(1000), paid=True), "PAID"),
    (replace(ORDER, payments=(PAYMENT,), paid_amount=Decimal(1000), paid=True), "PAID"),  # paid without invoice
    (replace(ORDER, realizations=(REALIZATION,), shipped=True), "SHIPPED_UNPAID"),
    (replace(ORDER, realizations=(REALIZATION,)), "SHIPPED_UNPAID"),  # partly shipped, unpaid
    (replace(ORDER, realizations=(REALIZATION,), shipped=True, payments=(replace(PAYMENT, amount=Decimal(1)),),
             paid_amount=Decimal(1)), "SHIPPED_UNPAID"),
    (replace(ORDER, realizations=(REALIZATION,), shipped=True, payments=(PAYMENT,), paid=True), "PAID"),
    (replace(ORDER, closed=True), "ORDER_RECEIVED"),
    (replace(ORDER, posted=False), None),
    (replace(ORDER, deletion_mark=True), None),
    (replace(ORDER, deletion_mark=True, posted=False, paid=True), None),
])
def test_target_stage_follows_the_facts(facts, expected):
    assert target_stage(facts) == expected


def test_progress_covers_every_logical_stage():
    assert set(PROGRESS) == {s.code for s in LOGICAL_STAGES}


def test_new_deal_goes_straight_to_target():
    assert next_stage(None, "PAID", STAGES, SEMANTICS) == "C3:ONEC_PAID"
    assert next_stage(None, "ORDER_RECEIVED", STAGES, SEMANTICS) == "C3:ONEC_ORDER"


@pytest.mark.parametrize(("current", "target", "expected"), [
    ("C3:ONEC_ORDER", "INVOICE_SENT", "C3:ONEC_INVOICE"),
    ("C3:ONEC_ORDER", "PAID", "C3:ONEC_PAID"),
    ("C3:ONEC_INVOICE", "PAID", "C3:ONEC_PAID"),
    ("C3:ONEC_INVOICE", "SHIPPED_UNPAID", "C3:ONEC_SHIPPED"),
    ("C3:ONEC_SHIPPED", "PAID", "C3:ONEC_PAID"),  # paid after shipment: the deal is done
    ("C3:ONEC_INVOICE", "INVOICE_SENT", None),  # already there
    ("C3:ONEC_INVOICE", "ORDER_RECEIVED", None),  # never backwards (invoice deleted in 1С)
    ("C3:ONEC_PAID", "INVOICE_SENT", None),  # payment cancelled in 1С: not moved back
    ("C3:ONEC_PAID", "SHIPPED_UNPAID", None),  # a paid deal is never "unpaid"
    ("C3:ONEC_SHIPPED", "INVOICE_SENT", None),
])
def test_moves_only_forward(current, target, expected):
    assert next_stage(current, target, STAGES, SEMANTICS) == expected


@pytest.mark.parametrize("closed_stage", ["C3:WON", "C3:LOSE", "C3:APOLOGY"])
def test_never_moves_a_closed_deal(closed_stage):
    assert next_stage(closed_stage, "PAID", STAGES, SEMANTICS, stage_sort=SORT) is None


def test_closed_flag_alone_is_enough():
    assert next_stage("C3:ONEC_INVOICE", "PAID", STAGES, {}, closed=True) is None


def test_a_person_who_moved_beyond_the_target_is_not_overruled():
    assert next_stage("C3:FINAL_INVOICE", "PAID", STAGES, SEMANTICS, stage_sort=SORT) is None
    assert next_stage("C3:EXECUTING", "INVOICE_SENT", STAGES, SEMANTICS, stage_sort=SORT) is None
    # … but a deal a person left in an earlier stage catches up
    assert next_stage("C3:NEW", "INVOICE_SENT", STAGES, SEMANTICS, stage_sort=SORT) == "C3:ONEC_INVOICE"
    assert next_stage("C3:EXECUTING", "SHIPPED_UNPAID", STAGES, SEMANTICS, stage_sort=SORT) == "C3:ONEC_SHIPPED"
    # a foreign stage whose position is unknown is left alone
    assert next_stage("C3:SOMETHING", "PAID", STAGES, SEMANTICS) is None


def test_stages_are_portal_data():
    remapped = {**STAGES, "PAID": "C3:FINAL_INVOICE"}  # an administrator chose another stage for PAID
    assert next_stage("C3:ONEC_INVOICE", "PAID", remapped, SEMANTICS, stage_sort=SORT) == "C3:FINAL_INVOICE"
    unmapped = {k: v for k, v in STAGES.items() if k != "PAID"}
    assert next_stage("C3:ONEC_INVOICE", "PAID", unmapped, SEMANTICS) is None
    assert next_stage(None, None, STAGES, SEMANTICS) is None
