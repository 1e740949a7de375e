"""Refunds in the ledger: ``credit_note.created`` through the real webhook endpoint
(signed with stripe-python's helper) books the cash given back as a new negative
entry, split like the charge; the partner's reports net it; the customer sees it on
the invoice; ``flask billing refund`` asks the provider for one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from accounts.models import Role
from billing.models import Invoice, LedgerEntry, LedgerEntryKind, ProviderObject, SubscriptionStatus
from billing.payouts import payout_balances
from billing.reports import monthly_recurring_revenue
from tests import factories
from tests.factories import workspace_of

SECRET = "whsec_bazaar_refund_tests"


@pytest.fixture
def app_overrides():
    return {"STRIPE_WEBHOOK_SECRET": SECRET, "BILLING_FEE_PERCENT_SELECT": Decimal("12.5")}


@pytest.fixture
def partner(db):
    return factories.make_partner(db, tier="select")


@pytest.fixture
def subscription(app, db, admin, partner):
    listing = factories.make_paid_listing(db, partner=partner, monthly_price=1999, currency="eur")
    subscription, _ = factories.make_checkout(db, app, workspace_of(db, admin), listing)
    return subscription


@pytest.fixture
def invoice(app, db, subscription):
    """A paid invoice of €19.99: 12.5% fee rounds to 2.50, the partner nets 17.49."""
    return factories.make_paid_invoice(db, app, subscription, 1999, "in_refund_1", "eur")


def send(client, event_type: str, data: dict, event_id: str):
    return factories.post_stripe_event(
        client, factories.stripe_event(event_id, event_type, data), SECRET)


def credit_note(note_id: str, refunded: int | None, invoice_id: str = "in_refund_1") -> dict:
    """A credit note as Stripe sends it: ``refunds`` lists the cash given back."""
    refunds = [] if refunded is None else [
        {"refund": "re_" + note_id, "amount_refunded": refunded, "type": "refund"}]
    return {"id": note_id, "object": "credit_note", "invoice": invoice_id, "currency": "eur",
            "amount": refunded or 500, "status": "issued", "type": "post_payment",
            "refunds": refunds}


def refunds(db) -> list[LedgerEntry]:
    db.expire_all()
    return list(db.exec(select(LedgerEntry).where(LedgerEntry.kind == LedgerEntryKind.REFUND)
                        .order_by(LedgerEntry.id)).all())


def charge(db) -> LedgerEntry:
    db.expire_all()
    return db.exec(select(LedgerEntry).where(LedgerEntry.kind == LedgerEntryKind.CHARGE)).one()


def split(entry: LedgerEntry) -> tuple[int, int, int]:
    return entry.gross, entry.platform_fee, entry.partner_net


def test_a_full_refund_books_a_negative_entry_split_like_the_charge(client, db, invoice):
    response = send(client, "credit_note.created", credit_note("cn_full", 1999), "evt_cn_1")

    assert response.status_code == 200
    [refund] = refunds(db)
    assert split(refund) == (-1999, -250, -1749)
    assert (refund.provider_refund_id, refund.currency, refund.invoice_id) == \
        ("cn_full", "eur", invoice.id)
    # The charge itself is never changed: the two entries together net to nothing.
    assert split(charge(db)) == (1999, 250, 1749)


def test_two_partial_refunds_give_back_exactly_the_charges_fee(client, db, invoice):
    send(client, "credit_note.created", credit_note("cn_part_1", 1000), "evt_cn_1")
    send(client, "credit_note.created", credit_note("cn_part_2", 999), "evt_cn_2")

    first, second = refunds(db)
    # 1000 of 1999 at a fee of 250: 125.06 rounds to 125; the rest of the fee goes
    # back with the second refund, so the whole fee (not 251 or 249) is given back.
    assert split(first) == (-1000, -125, -875)
    assert split(second) == (-999, -125, -874)
    for entry in (first, second):
        assert entry.platform_fee + entry.partner_net == entry.gross
    assert sum(entry.platform_fee for entry in (first, second)) == -250


def test_a_refund_beyond_what_remains_is_refused_for_the_surplus(client, db, invoice, caplog):
    send(client, "credit_note.created", credit_note("cn_big_1", 1500), "evt_cn_1")
    response = send(client, "credit_note.created", credit_note("cn_big_2", 1000), "evt_cn_2")
    assert response.status_code == 200
    after_all = send(client, "credit_note.created", credit_note("cn_big_3", 100), "evt_cn_3")

    assert after_all.status_code == 200
    assert [entry.gross for entry in refunds(db)] == [-1500, -499]
    assert "only 499 remains refundable" in caplog.text
    assert sum(entry.gross for entry in refunds(db)) + charge(db).gross == 0


def test_a_replayed_or_duplicated_credit_note_books_once(client, db, invoice):
    send(client, "credit_note.created", credit_note("cn_once", 700), "evt_cn_1")
    send(client, "credit_note.created", credit_note("cn_once", 700), "evt_cn_1")
    # The same credit note in another event (a .updated, a resend) changes nothing.
    send(client, "credit_note.created", credit_note("cn_once", 700), "evt_cn_other")

    assert [entry.gross for entry in refunds(db)] == [-700]


def test_a_credit_note_for_an_unknown_invoice_is_acknowledged_and_stores_nothing(
        client, db, invoice, caplog):
    response = send(client, "credit_note.created",
                    credit_note("cn_stranger", 500, invoice_id="in_not_ours"), "evt_cn_1")

    assert response.status_code == 200
    assert refunds(db) == []
    assert "unknown invoice in_not_ours" in caplog.text


def test_credit_to_the_customers_balance_is_not_cash_and_books_nothing(client, db, invoice):
    response = send(client, "credit_note.created", credit_note("cn_credit", None), "evt_cn_1")

    assert response.status_code == 200
    assert refunds(db) == []


def test_the_customer_sees_the_refund_on_the_invoice(client, db, login, admin, invoice):
    send(client, "credit_note.created", credit_note("cn_seen", 1000), "evt_cn_1")
    login(admin)

    page = client.get("/my/billing").get_data(as_text=True)

    assert "Refunded €10.00" in page
    assert "(in full)" not in page


def test_partner_reports_net_the_refund(app, client, db, login, partner, subscription, invoice,
                                        runner):
    subscription.status = SubscriptionStatus.ACTIVE
    db.add(subscription)
    db.commit()
    mrr_before = monthly_recurring_revenue(db, partner.id)
    send(client, "credit_note.created", credit_note("cn_report", 1000), "evt_cn_1")
    month = charge(db).booked_at.strftime("%Y-%m")
    login(factories.make_user(db, Role.PARTNER, partner=partner))

    page = client.get("/partner/revenue").get_data(as_text=True)
    money = page.split('id="money-eur-table"')[1].split("</table>")[0]
    # Gross, fee and net after the refund; one paid invoice (a refund is no sale).
    assert "€9.99" in money and "€1.25" in money and "€8.74" in money
    assert "<td>1</td>" in money and "−€10.00" in money

    ledger = client.get(f"/partner/revenue.csv?month={month}").get_data(as_text=True)
    header, *lines = ledger.strip().splitlines()
    assert header.split(",")[:2] == ["booked_at", "kind"]
    by_kind = {line.split(",")[1]: line.split(",") for line in lines}
    assert sorted(by_kind) == ["charge", "refund"] and len(lines) == 2
    assert by_kind["charge"][6:9] == ["19.99", "2.50", "17.49"]
    assert by_kind["refund"][6:9] == ["-10.00", "-1.25", "-8.75"]
    assert by_kind["refund"][-1] == "cn_report"

    summary = client.get(f"/partner/revenue/months.csv?month={month}").get_data(as_text=True)
    header, row = summary.strip().splitlines()
    cells = dict(zip(header.split(","), row.split(",")))
    assert (cells["gross_eur"], cells["partner_net_eur"], cells["paid_invoices_eur"],
            cells["refunded_eur"]) == ("9.99", "8.74", "1", "10.00")

    result = runner.invoke(args=["billing", "statements", "--month", month,
                                 "--partner", partner.slug])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if "Total" in line)
    assert total.split()[1:] == ["1", "9.99", "1.25", "8.74"]
    assert "Refunded: 10.00 EUR (1 refund" in result.output
    assert "Net payable: 8.74 EUR" in result.output

    assert payout_balances(db, partner.id)["eur"].net_booked == 874
    assert monthly_recurring_revenue(db, partner.id) == mrr_before == {"eur": 1999}


# --- flask billing refund (the local provider, test mode) ----------------------------


def credit_notes(db) -> int:
    db.expire_all()
    return len(db.exec(select(ProviderObject).where(ProviderObject.kind == "credit_note")).all())


def test_the_cli_refunds_part_then_the_rest_through_the_webhook_handler(runner, db, invoice):
    partial = runner.invoke(args=["billing", "refund", "--invoice", str(invoice.id),
                                  "--amount", "5.50"])
    assert partial.exit_code == 0, partial.output
    assert "Refund of 5.50 EUR on invoice" in partial.output

    rest = runner.invoke(args=["billing", "refund", "--invoice", str(invoice.id)])
    assert rest.exit_code == 0, rest.output
    assert "Refund of 14.49 EUR" in rest.output
    assert [entry.gross for entry in refunds(db)] == [-550, -1449]
    assert all(entry.provider_refund_id.startswith("cn_local_") for entry in refunds(db))

    nothing_left = runner.invoke(args=["billing", "refund", "--invoice", str(invoice.id)])
    assert nothing_left.exit_code == 1
    assert "nothing left to refund" in nothing_left.output
    assert credit_notes(db) == 2


@pytest.mark.parametrize("amount,code,message", [
    ("abc", 2, "must be a number"),
    ("0", 2, "greater than 0"),
    ("-3", 2, "greater than 0"),
    ("1.005", 2, "at most 2 decimals"),
    ("20.00", 1, "only 19.99 EUR left to refund"),
])
def test_the_cli_refuses_bad_amounts_and_changes_nothing(runner, db, invoice, amount, code,
                                                         message):
    result = runner.invoke(args=["billing", "refund", "--invoice", str(invoice.id),
                                 "--amount", amount])

    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
    assert refunds(db) == [] and credit_notes(db) == 0


def test_the_cli_refuses_an_unknown_or_unpaid_invoice(runner, db, app, subscription):
    unknown = runner.invoke(args=["billing", "refund", "--invoice", "999999"])
    assert unknown.exit_code == 2 and "No invoice has the id 999999" in unknown.output

    unpaid = Invoice(provider=subscription.provider, provider_invoice_id="in_open",
                     subscription_id=subscription.id, workspace_id=subscription.workspace_id,
                     listing_id=subscription.listing_id, currency="eur", amount_due=1999,
                     amount_paid=0, status="open")
    factories.save(db, unpaid)
    result = runner.invoke(args=["billing", "refund", "--invoice", str(unpaid.id)])
    assert result.exit_code == 1 and "is not paid (open)" in result.output
    assert refunds(db) == [] and credit_notes(db) == 0
