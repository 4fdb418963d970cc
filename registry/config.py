"""Configuration: every setting declared once with a typed default, overridden only from the environment.

``REGISTRY_<KEY>`` overrides ``<KEY>``, coerced to the default's type. ``DATABASE_URL``,
``ELASTICSEARCH_URL``, ``ELASTICSEARCH_CLOUD_ID``, ``ELASTICSEARCH_API_KEY``, ``S3_BUCKET`` and ``S3_ENDPOINT_URL``
are also read without the prefix because hosting platforms set them under those names.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / 'instance'


class Config:
    """Embedded defaults: SQLite, local documents, SQL search, email to the outbox table."""

    #: ``development`` | ``production``; production refuses to start on development secrets.
    ENV_NAME = 'development'
    SECRET_KEY = 'dev-only'
    SQLALCHEMY_DATABASE_URI = f'sqlite:///{INSTANCE_DIR / "registry.sqlite"}'
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: Seconds to open a database connection (PostgreSQL ``connect_timeout``; at least 2).
    DATABASE_CONNECT_TIMEOUT = 5
    #: Seconds one statement may run: PostgreSQL's ``statement_timeout``, and the client gives up on a server that
    #: does not answer at all 2 seconds after that (a hung server or a network that swallows packets).
    DATABASE_STATEMENT_TIMEOUT = 15
    #: Test each pooled connection with a cheap query before use, so connections broken by a database restart or a
    #: network fault are replaced instead of failing the request.
    DATABASE_POOL_PRE_PING = True
    #: Seconds a request waits for a free pooled connection before the service answers 503.
    DATABASE_POOL_TIMEOUT = 10
    #: Seconds SQLite waits for another writer to finish before giving up (its busy timeout).
    SQLITE_BUSY_TIMEOUT = 5
    #: Seconds the 503 page (database unavailable) asks clients to wait, in its Retry-After header.
    DATABASE_RETRY_AFTER = 30
    #: How many proxies (load balancers) in front of the service add an X-Forwarded-For / X-Forwarded-Proto entry
    #: that can be trusted. 0 (the default) ignores those headers, so a client cannot pretend to be another address.
    TRUSTED_PROXIES = 0
    #: Where the service says it lives, for links in emails.
    SERVER_BASE_URL = 'http://127.0.0.1:5000'
    SERVICE_NAME = "Children's Social Care Provider Registry"
    #: Where people send feedback, questions and accessibility problems: the beta banner, the footer's "Contact"
    #: page and the accessibility statement all give this address. Every deployment sets its own mailbox.
    SUPPORT_EMAIL = 'registry-support@localhost'
    #: How soon the support team replies, as the contact page and accessibility statement promise it.
    SUPPORT_REPLY_DAYS = 5

    #: Cookies: secure by default; the development server on plain http turns this off.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = 'Lax'
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    #: Sign-in throttling: consecutive wrong passwords before an account locks, and how long the lock lasts.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    #: Wrong security codes (TOTP) an account may have in LOGIN_LOCKOUT_MINUTES, over any number of sign-ins,
    #: before it locks for LOGIN_LOCKOUT_MINUTES and its owner is emailed.
    TOTP_MAX_FAILURES = 5
    #: Failed sign-ins one address may make in 15 minutes at full speed; after that each further attempt from the
    #: address waits (1, 2, 4 ... seconds, up to LOGIN_ADDRESS_MAX_DELAY), so many people behind one address are
    #: slowed down, never locked out.
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    LOGIN_ADDRESS_MAX_DELAY = 60
    #: Emails a visitor can cause, per hour: password reset links to one address, reset requests from one network
    #: address, registrations from one network address, emails of any kind about registering to one address.
    PASSWORD_RESETS_PER_EMAIL_PER_HOUR = 3
    PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = 20
    REGISTRATIONS_PER_ADDRESS_PER_HOUR = 10
    REGISTRATION_EMAILS_PER_EMAIL_PER_HOUR = 3
    #: Invitations (colleagues and staff) one person may send per hour, and that one address may receive per hour.
    INVITATIONS_PER_SENDER_PER_HOUR = 30
    INVITATIONS_PER_EMAIL_PER_HOUR = 3
    #: argon2id cost: memory-hard hashing at OWASP's recommended baseline (19 MiB, 2 passes, 1 lane). Higher
    #: settings made sign-in the bottleneck on 2 cores (see docs/benchmarks.md); stored hashes are upgraded or
    #: downgraded to these at the next sign-in. Tests lower them to keep the suite fast.
    PASSWORD_HASH_TIME_COST = 2
    PASSWORD_HASH_MEMORY_KIB = 19456
    PASSWORD_HASH_PARALLELISM = 1
    #: Email verification and password reset links stay valid this long.
    TOKEN_MAX_AGE_HOURS = 24

    #: Email: ``outbox`` writes to the outbox table and the log; ``smtp`` also sends.
    MAIL_BACKEND = 'outbox'
    MAIL_FROM = 'registry@localhost'
    SMTP_HOST = ''
    SMTP_PORT = 587
    SMTP_USERNAME = ''
    SMTP_PASSWORD = ''
    #: STARTTLS after connecting (port 587); ``SMTP_USE_SSL`` instead connects over TLS from the start (port 465).
    SMTP_USE_TLS = True
    SMTP_USE_SSL = False
    #: Seconds to wait for the SMTP server before an attempt counts as failed.
    SMTP_TIMEOUT = 10.0
    #: Attempts per email before it is dead-lettered (status ``dead``), and the wait after the first failure in
    #: seconds (doubled after each further failure).
    MAIL_MAX_ATTEMPTS = 5
    MAIL_RETRY_SECONDS = 60
    #: Daily notification digests go out at the first ``send-emails`` run at or after this hour (UK time).
    NOTIFICATION_DIGEST_HOUR = 7
    #: Seconds a sender's claim on an email lasts: a sender that dies leaves it to another after this.
    MAIL_CLAIM_SECONDS = 300

    #: Documents: ``local`` (a folder) or ``s3``.
    STORAGE_BACKEND = 'local'
    STORAGE_LOCAL_DIR = str(INSTANCE_DIR / 'documents')
    S3_BUCKET = ''
    S3_ENDPOINT_URL = ''
    S3_REGION = 'eu-west-2'
    S3_PREFIX = ''
    MAX_UPLOAD_MB = 20
    #: The most an upload's ZIP container (DOCX, XLSX, ODT) may be inflated while checking what it is, in bytes.
    ZIP_INSPECT_MAX_BYTES = 64 * 1024
    #: The most members a ZIP-based upload may list in its central directory.
    ZIP_MAX_MEMBERS = 5000
    #: clamd's Unix socket (e.g. ``/run/clamav/clamd.ctl``): every upload is scanned over clamd's INSTREAM
    #: protocol when set; an infected file is refused, and uploads are refused while clamd cannot be reached.
    CLAMD_SOCKET = ''
    #: Seconds to wait for clamd's verdict.
    CLAMD_TIMEOUT = 30
    SIGNED_URL_SECONDS = 300

    # Ofsted's register as the gate (registry/ofsted/services.py)
    #: A full release that would mark more than this share of registered providers as gone is refused
    #: unless the operator says ``--accept-drop`` (a cut or partial file looks like mass closures).
    OFSTED_MAX_DROP_SHARE = 0.10
    #: An import that lowers a setting's judgement to inadequate suspends the setting until the board reviews it.
    OFSTED_SUSPEND_ON_INADEQUATE = True

    #: Search: ``sql`` (embedded) or ``elasticsearch`` (Elasticsearch 8.x or 9.x; see the README).
    SEARCH_ENGINE = 'sql'
    #: One or more node URLs, comma-separated (or set ``ELASTICSEARCH_CLOUD_ID`` instead).
    ELASTICSEARCH_URL = ''
    ELASTICSEARCH_CLOUD_ID = ''
    #: Credentials: an API key (``id:key``, or the encoded form Kibana shows), or a user name and password.
    ELASTICSEARCH_API_KEY = ''
    ELASTICSEARCH_USERNAME = ''
    ELASTICSEARCH_PASSWORD = ''
    #: A CA certificate file (PEM) for clusters whose certificate no public authority signed.
    ELASTICSEARCH_CA_CERTS = ''
    ELASTICSEARCH_VERIFY_CERTS = True
    #: Seconds a search may take before the page says search is temporarily unavailable.
    ELASTICSEARCH_TIMEOUT = 5.0
    #: Client retries on a refused connection or 502/503/504 (never on a timeout).
    ELASTICSEARCH_MAX_RETRIES = 1
    #: Seconds one bulk write may take (worker and reindex), and tries after a 429, with a doubling wait.
    ELASTICSEARCH_BULK_TIMEOUT = 30.0
    ELASTICSEARCH_BULK_RETRIES = 3
    #: Hours a replaced index is kept for ``flask search rollback`` before a reindex or prune deletes it.
    ELASTICSEARCH_KEEP_PREVIOUS_HOURS = 72.0
    #: The alias the directory reads; empty means ``registry-<ENV_NAME>-settings``, so environments sharing a
    #: cluster never share an index.
    SEARCH_INDEX_ALIAS = ''
    SEARCH_PAGE_SIZE = 20
    #: Seconds the outbox is drained for right after each commit (what is left waits for ``flask search worker``
    #: or ``flask search sync``); 0 turns the after-commit drain off, for deployments that run the worker.
    SEARCH_AFTER_COMMIT_SECONDS = 2.0
    #: SQL engine: each process's background thread checks for index writes this often (seconds) and patches them
    #: into its snapshot, so requests rarely have to; 0 turns the thread off (requests then patch for themselves).
    SEARCH_SNAPSHOT_REFRESH_SECONDS = 0.25
    #: SQL engine: where a whole snapshot, once read, is saved for every process to memory-map (one copy in memory
    #: however many workers, and a new worker starts from it); empty: nowhere.
    SEARCH_SNAPSHOT_DIR = str(INSTANCE_DIR / 'search-snapshots')

    #: Where qualification scheme YAML files live; empty means ``qualification/schemes`` in the project.
    QUALIFICATION_SCHEMES_DIR = ''

    # Referrals and placements
    #: Months after a referral closes (placed or closed) before its child details are deleted.
    REFERRAL_RETENTION_MONTHS = 12
    #: Providers are reminded once when a referral's response deadline is this close.
    REFERRAL_REMINDER_HOURS = 24

    #: Where the postcode directory's letters are kept decoded, for every process to memory-map.
    POSTCODE_CACHE_DIR = str(INSTANCE_DIR / 'postcodes')
    #: Where the GOV.UK Frontend assets were installed by npm.
    GOVUK_FRONTEND_DIR = str(PROJECT_ROOT / 'node_modules' / 'govuk-frontend' / 'dist' / 'govuk')


#: Unprefixed variables that platforms commonly set.
_UNPREFIXED = {
    'DATABASE_URL': 'SQLALCHEMY_DATABASE_URI',
    'ELASTICSEARCH_URL': 'ELASTICSEARCH_URL',
    'ELASTICSEARCH_CLOUD_ID': 'ELASTICSEARCH_CLOUD_ID',
    'ELASTICSEARCH_API_KEY': 'ELASTICSEARCH_API_KEY',
    'S3_BUCKET': 'S3_BUCKET',
    'S3_ENDPOINT_URL': 'S3_ENDPOINT_URL',
}


def _coerce(raw: str, default: object) -> object:
    """Turn an environment string into the type of the default it replaces."""
    if isinstance(default, bool):
        if raw.lower() in {'1', 'true', 'yes', 'on'}:
            return True
        if raw.lower() in {'0', 'false', 'no', 'off', ''}:
            return False
        raise ValueError(f'expected a boolean, got {raw!r}')
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ('postgres://', 'postgresql://'):
        if url.startswith(prefix):
            return 'postgresql+psycopg://' + url[len(prefix):]
    return url


def load_env_overrides(config: dict, environ: dict | None = None) -> None:
    """Apply ``REGISTRY_*`` (and a few well-known unprefixed) environment variables to ``config``."""
    environ = os.environ if environ is None else environ
    for env_key, key in _UNPREFIXED.items():
        if environ.get(env_key):
            config[key] = environ[env_key]
    for env_key, raw in environ.items():
        if not env_key.startswith('REGISTRY_'):
            continue
        key = env_key[len('REGISTRY_'):]
        if key not in config:
            continue
        try:
            config[key] = _coerce(raw, config[key])
        except ValueError as exc:
            raise RuntimeError(f'{env_key}: {exc}') from None
    config['SQLALCHEMY_DATABASE_URI'] = normalise_database_url(config['SQLALCHEMY_DATABASE_URI'])


def check_production(config: dict) -> None:
    """Refuse to run in production on development secrets or insecure cookies."""
    if config['ENV_NAME'] != 'production':
        return
    if config['SECRET_KEY'] in {'', 'dev-only'}:
        raise RuntimeError('REGISTRY_SECRET_KEY must be set in production')
    if not config['SESSION_COOKIE_SECURE']:
        raise RuntimeError('REGISTRY_SESSION_COOKIE_SECURE must stay on in production')
    if config.get('SEARCH_ENGINE') == 'elasticsearch':
        if not config.get('ELASTICSEARCH_VERIFY_CERTS', True):
            raise RuntimeError('REGISTRY_ELASTICSEARCH_VERIFY_CERTS must stay on in production')
        credentials = config.get('ELASTICSEARCH_API_KEY') or config.get('ELASTICSEARCH_PASSWORD')
        plain = [url for url in config.get('ELASTICSEARCH_URL', '').split(',') if url.strip().startswith('http:')]
        if credentials and plain:
            raise RuntimeError('ELASTICSEARCH_URL must use https when Elasticsearch credentials are set in production')
