"""The provider's webhook events, validated before anything is applied.

A signed event is still only data: a bug at the sender, a replayed test fixture or a
leaked signing secret can put anything in it. So the body is parsed into typed shapes
(pydantic, strict: no number is taken for a string, no string for a number) before
any handler reads it, and only the fields Bazaar uses are checked; the rest is
ignored. An event whose body is not an event is ``InvalidWebhook``; one whose event
or object has a shape we cannot use (a ``created`` of 1e20, a negative or absurd
amount, ``metadata`` that is a list, a ``parent`` that is a string...) is
``UnusableEvent``: the endpoint answers 400, logs the event id, and changes nothing.

Stripe's shapes: https://docs.stripe.com/api/events/object,
https://docs.stripe.com/api/invoices/object, https://docs.stripe.com/api/subscriptions/object,
https://docs.stripe.com/api/checkout/sessions/object, https://docs.stripe.com/api/credit_notes/object,
https://docs.stripe.com/api/accounts/object, https://docs.stripe.com/api/payouts/object
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from billing.interfaces import InvalidWebhook, WebhookEvent

# The largest amount of money we book, in minor units: 12 digits, the most Stripe
# accepts for any currency (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MAX_AMOUNT = 999_999_999_999
# Unix times we accept: up to 2100-01-01, well inside what datetime and the database hold.
MAX_TIMESTAMP = 4_102_444_800
# Our own ids are PostgreSQL integers.
MAX_OUR_ID = 2**31 - 1
# The metadata key our checkout puts on the session and the subscription.
OUR_SUBSCRIPTION_KEY = "bazaar_subscription_id"


class UnusableEvent(InvalidWebhook):
    """A verified event whose event or object has a shape Bazaar cannot use: answer
    400 and change nothing. ``str(error)`` says which fields, never their values."""

    def __init__(self, reason: str, event_id: str | None = None, event_type: str | None = None):
        super().__init__(reason)
        self.event_id = event_id
        self.event_type = event_type


def _our_id(metadata: dict[str, str] | None) -> dict[str, str] | None:
    value = (metadata or {}).get(OUR_SUBSCRIPTION_KEY)
    if value is not None and not (value.isascii() and value.isdigit()
                                  and 0 < int(value) <= MAX_OUR_ID):
        raise ValueError(f"{OUR_SUBSCRIPTION_KEY} is not one of our subscription ids")
    return metadata


# Ids, types, statuses and codes are printable ASCII without spaces, as Stripe's are;
# anything else (a NUL, which PostgreSQL cannot store, a newline for the logs) is refused.
Id = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[!-~]+$")]
Word = Annotated[str, StringConstraints(max_length=100, pattern=r"^[!-~]*$")]
Message = Annotated[str, StringConstraints(max_length=5000, pattern=r"^[^\x00]*$")]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Timestamp = Annotated[int, Field(ge=0, le=MAX_TIMESTAMP)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
# Stripe's limits: 50 keys of up to 40 characters, values of up to 500.
# https://docs.stripe.com/metadata#data
Metadata = Annotated[
    dict[Annotated[str, StringConstraints(max_length=40)],
         Annotated[str, StringConstraints(max_length=500)]],
    Field(max_length=50), AfterValidator(_our_id)]


class Shape(BaseModel):
    """Strict, read-only, and blind to fields we don't use."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class WithMetadata(Shape):
    metadata: Metadata | None = None

    @property
    def our_subscription_id(self) -> int | None:
        """Our subscription's id, from the metadata our checkout set."""
        value = (self.metadata or {}).get(OUR_SUBSCRIPTION_KEY)
        return int(value) if value is not None else None


# --- the event itself ---------------------------------------------------------------------


class EventData(Shape):
    object: dict


class Envelope(Shape):
    id: Id
    type: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[!-~]+$")]
    created: Timestamp
    data: EventData
    account: Id | None = None


def _errors(error: ValidationError) -> str:
    """Which fields are wrong and how, without their values (they may be anything)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_event(payload: bytes) -> WebhookEvent:
    """The event in a webhook body whose signature was already checked. Raises
    ``InvalidWebhook`` for a body that is not a JSON object, ``UnusableEvent`` (with
    the event id when there is one) for an event of a shape we cannot use."""
    try:
        # Infinity and NaN parse as floats here, and are then refused (with the event
        # id) wherever a number is expected.
        body = json.loads(payload)
    except (ValueError, RecursionError) as error:
        # RecursionError: nested deeper than the parser follows; never an event.
        raise InvalidWebhook("The webhook body is not a JSON event.") from error
    if not isinstance(body, dict):
        raise InvalidWebhook("The webhook body is not a JSON event.")
    try:
        envelope = Envelope.model_validate(body)
    except ValidationError as error:
        raise UnusableEvent(_errors(error), _text_or_none(body.get("id")),
                            _text_or_none(body.get("type"))) from None
    return WebhookEvent(id=envelope.id, type=envelope.type,
                        created=datetime.fromtimestamp(envelope.created, UTC),
                        data_object=envelope.data.object, account=envelope.account)


def _text_or_none(value) -> str | None:
    return value[:255] if isinstance(value, str) else None


# --- the objects events are about -------------------------------------------------------------


class SubscriptionItem(Shape):
    current_period_end: Timestamp | None = None


class SubscriptionItems(Shape):
    data: Annotated[list[SubscriptionItem], Field(max_length=1000)] = []


class SubscriptionObject(WithMetadata):
    """A subscription, from a ``customer.subscription.*`` event or the provider."""

    id: Id | None = None
    status: Word | None = None
    trial_end: Timestamp | None = None
    current_period_end: Timestamp | None = None
    # Newer API versions keep the period on the subscription's items.
    items: SubscriptionItems | None = None
    cancel_at_period_end: bool | None = None

    @property
    def period_end(self) -> int | None:
        if self.current_period_end is not None:
            return self.current_period_end
        if self.items is not None and self.items.data:
            return self.items.data[0].current_period_end
        return None


class CheckoutSessionObject(WithMetadata):
    id: Id | None = None
    subscription: Id | None = None
    payment_status: Word | None = None


class SubscriptionDetails(WithMetadata):
    subscription: Id | None = None


class InvoiceParent(Shape):
    subscription_details: SubscriptionDetails | None = None


class Period(Shape):
    start: Timestamp | None = None
    end: Timestamp | None = None


class InvoiceLine(Shape):
    period: Period | None = None


class InvoiceLines(Shape):
    data: Annotated[list[InvoiceLine], Field(max_length=1000)] = []


class StatusTransitions(Shape):
    paid_at: Timestamp | None = None


class InvoiceObject(Shape):
    """An invoice from ``invoice.paid`` or ``invoice.payment_failed``."""

    id: Id
    subscription: Id | None = None
    # Where the subscription and its metadata are: ``subscription_details`` in older
    # API versions, ``parent.subscription_details`` in newer ones.
    subscription_details: SubscriptionDetails | None = None
    parent: InvoiceParent | None = None
    currency: Currency | None = None
    amount_due: Amount = 0
    amount_paid: Amount = 0
    hosted_invoice_url: Annotated[str, StringConstraints(max_length=4096)] | None = None
    lines: InvoiceLines | None = None
    period_start: Timestamp | None = None
    period_end: Timestamp | None = None
    status_transitions: StatusTransitions | None = None

    def _details(self) -> list[SubscriptionDetails]:
        found = []
        if self.parent is not None and self.parent.subscription_details is not None:
            found.append(self.parent.subscription_details)
        if self.subscription_details is not None:
            found.append(self.subscription_details)
        return found

    @property
    def provider_subscription_id(self) -> str | None:
        return self.subscription or next(
            (details.subscription for details in self._details() if details.subscription), None)

    @property
    def our_subscription_id(self) -> int | None:
        return next((details.our_subscription_id for details in self._details()
                     if details.our_subscription_id is not None), None)

    @property
    def period(self) -> tuple[int | None, int | None]:
        """The period the invoice pays for: its first line's (the subscription's
        period; the invoice's own period_start/_end cover the previous one for
        renewals), else the invoice's own fields."""
        line = self.lines.data[0].period if self.lines and self.lines.data else None
        start = line.start if line and line.start is not None else self.period_start
        end = line.end if line and line.end is not None else self.period_end
        return start, end

    @property
    def paid_at(self) -> int | None:
        return self.status_transitions.paid_at if self.status_transitions else None


class CreditNoteRefund(Shape):
    amount_refunded: Amount = 0


class CreditNoteObject(Shape):
    """A credit note from ``credit_note.created``: it names our invoice."""

    id: Id
    invoice: Id
    refunds: Annotated[list[CreditNoteRefund], Field(max_length=1000)] = []

    @property
    def cash_refunded(self) -> int:
        """The money it gave back to the customer's card, in minor units: the sum of
        ``refunds[].amount_refunded``. Credit to the customer's balance and
        out-of-band amounts are not cash and count 0.
        https://docs.stripe.com/api/credit_notes/object#credit_note_object-refunds"""
        return sum(refund.amount_refunded for refund in self.refunds)


class Requirements(Shape):
    disabled_reason: Word | None = None


class AccountObject(Shape):
    """A partner's connected account from ``account.updated``."""

    id: Id
    charges_enabled: bool | None = None
    payouts_enabled: bool | None = None
    details_submitted: bool | None = None
    requirements: Requirements | None = None


class PayoutObject(Shape):
    """A payout of a connected account to its bank from ``payout.*``."""

    id: Id
    status: Word | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    created: Timestamp | None = None
    arrival_date: Timestamp | None = None
    failure_code: Word | None = None
    failure_message: Message | None = None


OBJECT_SHAPES: dict[str, type[Shape]] = {
    "checkout.session.completed": CheckoutSessionObject,
    "customer.subscription.created": SubscriptionObject,
    "customer.subscription.updated": SubscriptionObject,
    "customer.subscription.deleted": SubscriptionObject,
    "customer.subscription.trial_will_end": SubscriptionObject,
    "invoice.paid": InvoiceObject,
    "invoice.payment_failed": InvoiceObject,
    "credit_note.created": CreditNoteObject,
    "account.updated": AccountObject,
    "payout.created": PayoutObject,
    "payout.updated": PayoutObject,
    "payout.paid": PayoutObject,
    "payout.failed": PayoutObject,
    "payout.canceled": PayoutObject,
}


def event_object(event: WebhookEvent) -> Shape | None:
    """The validated object of an event type we act on; None for other types (they
    are acknowledged and change nothing). Raises ``UnusableEvent``."""
    shape = OBJECT_SHAPES.get(event.type)
    if shape is None:
        return None
    try:
        return shape.model_validate(event.data_object)
    except ValidationError as error:
        raise UnusableEvent(_errors(error), event.id, event.type) from None


def subscription_shape(data: dict) -> SubscriptionObject | None:
    """A subscription as the provider answered it, or None when it is not of a
    shape we can use."""
    try:
        return SubscriptionObject.model_validate(data)
    except ValidationError:
        return None
