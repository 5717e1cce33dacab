"""stockledger: a self-hosted inventory service, Zettle-compatible, on an auditable stock ledger."""

__version__ = "0.1.0"
