"""The audit trail: capture by database triggers, and the context that names the actor."""
