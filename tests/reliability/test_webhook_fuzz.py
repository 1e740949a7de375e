"""Hostile shapes through the real Stripe webhook endpoint: 1,000 correctly signed
events of every type we handle, with fields replaced by what no API would send
(numbers past any column, negative money, floats, Infinity, strings where objects
belong and the reverse, NUL characters, 30-digit ids, deep nesting, bodies that are
not objects). Whatever comes, the endpoint answers 200 or 400, never 5xx, and the
money booked stays money (never negative charges, never absurd amounts).
"""

from __future__ import annotations

import copy
import json
import time
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from accounts.models import Role
from billing.events import MAX_AMOUNT
from billing.models import Invoice, LedgerEntry, LedgerEntryKind
from billing.providers import get_provider
from tests import factories
from tests.factories import workspace_of

SECRET = "whsec_bazaar_fuzz_tests"
EXAMPLES = 1000
_ids = count(1)


@pytest.fixture
def app_overrides():
    return {"STRIPE_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def known(app, db):
    """Real rows for the events to reach: a subscription (checkout started, held at
    the provider), a paid invoice, and a partner's connected account."""
    admin = factories.make_user(db, Role.CUSTOMER)
    factories.make_workspace(db, admin)
    listing = factories.make_paid_listing(db)
    subscription, _ = factories.make_checkout(db, app, workspace_of(db, admin), listing)
    get_provider(app).record_subscription({
        "id": "sub_fuzz_1", "object": "subscription", "status": "active",
        "metadata": {"bazaar_subscription_id": str(subscription.id)}})
    factories.make_paid_invoice(db, app, subscription, 1500, "in_fuzz_paid")
    account = factories.make_connected_account(db, factories.make_partner(db))
    return {"subscription": subscription, "account": account.provider_account_id,
            "checkout": subscription.provider_checkout_session_id}


def templates(known: dict) -> list[dict]:
    """One well-formed event of each type we handle, touching the rows above."""
    ours = {"bazaar_subscription_id": str(known["subscription"].id)}
    now = int(time.time())
    subscription = {"id": "sub_fuzz_1", "object": "subscription", "status": "active",
                    "metadata": ours, "trial_end": None, "current_period_end": now + 86400,
                    "cancel_at_period_end": False,
                    "items": {"data": [{"current_period_end": now + 86400}]}}
    invoice = {"id": "in_fuzz_1", "object": "invoice", "subscription": "sub_fuzz_1",
               "currency": "usd", "amount_due": 1500, "amount_paid": 1500,
               "hosted_invoice_url": "https://invoice.stripe.test/i/1",
               "lines": {"data": [{"period": {"start": now, "end": now + 86400}}]},
               "parent": {"subscription_details": {"subscription": "sub_fuzz_1",
                                                   "metadata": ours}},
               "subscription_details": {"metadata": ours},
               "status_transitions": {"paid_at": now}, "period_start": now, "period_end": now}
    payout = {"id": "po_fuzz_1", "object": "payout", "amount": 2610, "currency": "usd",
              "status": "paid", "created": now, "arrival_date": now + 86400,
              "failure_code": None, "failure_message": None}
    objects = [
        ("checkout.session.completed", {"id": known["checkout"], "payment_status": "paid",
                                        "subscription": "sub_fuzz_1", "metadata": ours}),
        ("customer.subscription.created", subscription),
        ("customer.subscription.updated", subscription),
        ("customer.subscription.deleted", {**subscription, "status": "canceled"}),
        ("customer.subscription.trial_will_end", {**subscription, "status": "trialing"}),
        ("invoice.paid", invoice),
        ("invoice.payment_failed", {**invoice, "id": "in_fuzz_2", "amount_paid": 0}),
        ("credit_note.created", {"id": "cn_fuzz_1", "invoice": "in_fuzz_paid",
                                 "refunds": [{"refund": "re_1", "amount_refunded": 200}]}),
        ("account.updated", {"id": known["account"], "charges_enabled": True,
                             "payouts_enabled": True, "details_submitted": True,
                             "requirements": {"disabled_reason": None}}),
        ("payout.paid", payout),
        ("payout.failed", {**payout, "status": "failed", "failure_code": "account_closed",
                           "failure_message": "The bank account has been closed."}),
        ("customer.created", {"id": "cus_1"}),
    ]
    events = []
    for event_type, data in objects:
        event = {"id": "evt_fuzz", "object": "event", "type": event_type, "created": now,
                 "data": {"object": data}}
        if event_type.startswith("payout."):
            event["account"] = known["account"]
        events.append(event)
    return events


def paths(value, prefix=()) -> list[tuple]:
    """Every place in a JSON value: the keys and indexes that lead to it."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, prefix + (index,))
    return found


def nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


hostile = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, -500, 2**31, 2**63, 10**30, MAX_AMOUNT + 1, 10**20]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e20, float("inf"), float("-inf"), float("nan"), 1.5, -0.0]),
    st.text(max_size=40),
    st.sampled_from(["", "\x00", "evt\x00x", "9" * 30, "a" * 300, "x" * 600,
                     "javascript:alert(1)", "data:text/html,<b>", "vbscript:x",
                     "https://invoice.stripe.test/ok", "http://h/x", "EUR", "€€€",
                     "sub_fuzz_1", "in_fuzz_paid", "active", "canceled", "past_due", "paid",
                     "no_payment_required", "1", "2147483648", "-1", "0x10", "١٢"]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.sampled_from([nested(40), nested(200), {"a": nested(100)}, [], {}]),
)


@st.composite
def hostile_events(draw, events: list[dict]):
    """A template event with one to three of its places replaced by a hostile value or
    removed, or, now and then, a body that is not an event at all."""
    if draw(st.integers(min_value=0, max_value=30)) == 0:
        return copy.deepcopy(draw(st.one_of(hostile, st.lists(hostile, max_size=3))))
    template = draw(st.sampled_from(events))
    event = copy.deepcopy(template)
    event["id"] = f"evt_fuzz_{next(_ids)}"
    for where in draw(st.lists(st.sampled_from(paths(template)[1:]), min_size=1, max_size=3)):
        parent = event
        for step in where[:-1]:  # an earlier change may have cut the way: skip it then
            if not isinstance(parent, dict | list) or step not in (
                    parent if isinstance(parent, dict) else range(len(parent))):
                parent = None
                break
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.integers(min_value=0, max_value=5)) == 0:
            parent.pop(where[-1], None)
        elif isinstance(parent, dict) or (isinstance(parent, list) and isinstance(where[-1], int)
                                          and where[-1] < len(parent)):
            parent[where[-1]] = copy.deepcopy(draw(hostile))
    return event


def test_hostile_signed_events_never_get_a_5xx(app, db, known):
    events = templates(known)
    answers: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(hostile_events(events))
    def endpoint_answers(body):
        # NaN and Infinity are what a careless encoder writes; Stripe never does.
        payload = json.dumps(body).encode()
        status = factories.post_stripe_event(app.test_client(), payload, SECRET).status_code
        answers[status] = answers.get(status, 0) + 1
        assert status in (200, 400), (status, payload[:300])

    endpoint_answers()

    # The run reached the handlers, not only the validation in front of them.
    assert answers.get(200, 0) > 100 and answers.get(400, 0) > 100, answers
    db.expire_all()
    for entry in db.exec(select(LedgerEntry)).all():
        if entry.kind == LedgerEntryKind.CHARGE:
            assert 0 <= entry.gross <= MAX_AMOUNT
        assert entry.platform_fee + entry.partner_net == entry.gross
    for invoice in db.exec(select(Invoice)).all():
        assert 0 <= invoice.amount_paid <= MAX_AMOUNT
        assert invoice.hosted_invoice_url is None \
            or invoice.hosted_invoice_url.startswith(("https://", "http://"))
