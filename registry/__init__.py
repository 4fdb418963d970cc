"""The registry core: app shell, accounts, organisations, settings, geography, audit and notifications."""
