"""Admin tests share the account tests' per-request login fixture."""

from tests.registry.accounts.conftest import _fresh_login_per_request  # noqa: F401
