"""Partner webhooks: signed, versioned events about installs, delivered from an outbox."""
