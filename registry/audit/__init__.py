"""Append-only audit trail: who did what to which object, when, with before and after."""
