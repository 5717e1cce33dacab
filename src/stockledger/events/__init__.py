"""Webhook delivery: outbox fan-out, signing, HTTP delivery and the retry schedule (spec §7)."""
