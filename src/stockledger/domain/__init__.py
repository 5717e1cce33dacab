"""Pure rules of the inventory: quantities, locations, movements. No I/O here."""
