"""HTTP layer: routes parse, authorize and shape JSON; no SQL here."""
