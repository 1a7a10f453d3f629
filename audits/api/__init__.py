"""The REST API (contract: shared/CONTRACT.md): thin views over services and selectors."""
