"""Notifications: emails written to an outbox table and the log, sent by SMTP when configured."""
