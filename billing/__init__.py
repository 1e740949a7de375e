"""Billing: plans, subscriptions, usage metering, revenue share and payouts.

Built by the billing issue; until then every listing's pricing is shown but no
payment is taken."""
