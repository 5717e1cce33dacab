"""Pure rules of the inventory: quantities, locations, movements and the ledger. No I/O here."""
