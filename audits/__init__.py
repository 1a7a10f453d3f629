"""The domain of Duchá: organisation, accounts, inspections and their audit trail."""
