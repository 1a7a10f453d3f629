"""The verbs of the domain: each one a function, in one transaction, audited."""
