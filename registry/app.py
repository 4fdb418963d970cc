"""The application factory: the one place that wires extensions, blueprints and CLI together."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from flask import Flask, g, send_from_directory
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from registry import database, widgets
from registry.config import INSTANCE_DIR, Config, check_production, load_env_overrides
from registry.extensions import csrf, db, login_manager, migrate
from registry.inputs import DatabaseIdConverter

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / 'migrations'


def create_app(overrides: dict | None = None) -> Flask:
    """Build the registry app from the defaults, the environment and ``overrides`` (tests pass a dict)."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(Config)
    load_env_overrides(app.config)
    if overrides:
        app.config.update(overrides)
    check_production(app.config)
    app.config['SQLALCHEMY_ENGINE_OPTIONS'] = database.engine_options(app.config)
    # every <int:...> in a URL must fit the database's integer columns (larger ones are simply not found)
    app.url_map.converters['int'] = DatabaseIdConverter
    if app.config['TRUSTED_PROXIES']:
        hops = int(app.config['TRUSTED_PROXIES'])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from registry.templating import TemplateEnvironment

    app.jinja_environment = TemplateEnvironment   # before anything reads app.jinja_env, which makes it
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(Path(__file__).parent / 'templates')),
        PrefixLoader({
            'govuk_frontend_jinja': PackageLoader('govuk_frontend_jinja'),
            'govuk_frontend_wtf': PackageLoader('govuk_frontend_wtf'),
        }),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    WTFormsHelpers(app)
    widgets.install()
    _register_models()
    database.init_app(app)
    _register_blueprints(app)
    _register_assets(app)
    _register_security_headers(app)
    _register_template_helpers(app)

    from registry.errors import register_error_handlers
    register_error_handlers(app)
    from registry.cli import register_cli
    register_cli(app)
    import search
    search.init_app(app)
    _register_demo_steps(app)
    return app


def _register_demo_steps(app: Flask) -> None:
    """Feature packages' demo data, loaded after the core demo in this order."""
    from market.demo import load as load_market_demo
    from placements.demo import load as load_placements_demo
    from qualification.demo import load as load_schemes_demo
    from registry.demo import register_demo_step

    register_demo_step(app, 'placements', load_placements_demo)
    register_demo_step(app, 'schemes', load_schemes_demo)
    register_demo_step(app, 'market', load_market_demo)
    from consortia.demo import load as load_consortia_demo

    register_demo_step(app, 'consortia', load_consortia_demo)
    from unlisted.demo import load as load_unlisted_demo

    register_demo_step(app, 'unlisted', load_unlisted_demo)


def _register_models() -> None:
    """Import every model module so that metadata (and Alembic autogenerate) sees all tables."""
    import consortia.models  # noqa: F401
    import market.models  # noqa: F401
    import notifications.models  # noqa: F401
    import placements.models  # noqa: F401
    import qualification.applications  # noqa: F401
    import qualification.models  # noqa: F401
    import registry.accounts.models  # noqa: F401
    import registry.audit.models  # noqa: F401
    import registry.geography.models  # noqa: F401
    import registry.indexing  # noqa: F401
    import registry.notifications.models  # noqa: F401
    import registry.ofsted.models  # noqa: F401
    import registry.organisations.models  # noqa: F401
    import registry.settings.models  # noqa: F401
    import registry.throttle  # noqa: F401
    import unlisted.models  # noqa: F401
    import workspace.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from attention import bp as attention_bp
    from consortia import bp as consortia_bp
    from market import bp as market_bp
    from market.supply import on_import
    from notifications import bp as notifications_bp
    from placements import bp as placements_bp
    from qualification import bp as qualification_bp
    from registry.accounts import bp as accounts_bp
    from registry.admin import bp as admin_bp
    from registry.main import bp as main_bp
    from registry.ofsted import bp as ofsted_bp
    from registry.organisations import bp as organisations_bp
    from registry.settings.views import bp as settings_bp
    from registry.storage import bp as storage_bp
    from unlisted import bp as unlisted_bp
    from workspace import bp as workspace_bp

    for blueprint in (main_bp, accounts_bp, organisations_bp, settings_bp, admin_bp, storage_bp, qualification_bp,
                      ofsted_bp, workspace_bp, placements_bp, market_bp, notifications_bp, attention_bp, consortia_bp,
                      unlisted_bp):
        app.register_blueprint(blueprint)
    from registry.ofsted.services import after_import

    if on_import not in after_import:
        after_import.append(on_import)
    from search import api_bp as search_api_bp
    from search import bp as search_bp

    for blueprint in (search_bp, search_api_bp):
        app.register_blueprint(blueprint)


def _register_assets(app: Flask) -> None:
    """Serve GOV.UK Frontend's compiled CSS, JS, fonts and images from the npm package."""

    @app.route('/assets/<path:filename>')
    def govuk_assets(filename: str):
        root = Path(app.config['GOVUK_FRONTEND_DIR'])
        if filename.startswith(('images/', 'fonts/', 'manifest.json')):
            return send_from_directory(root / 'assets', filename, max_age=86400)
        return send_from_directory(root, filename, max_age=3600)


def _register_security_headers(app: Flask) -> None:
    """Content security policy with a per-request nonce, and the usual hardening headers."""

    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def _headers(response):
        nonce = getattr(g, 'csp_nonce', '')
        response.headers.setdefault(
            'Content-Security-Policy',
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        response.headers['X-Content-Type-Options'] = 'nosniff'
        response.headers['X-Frame-Options'] = 'DENY'
        response.headers['Referrer-Policy'] = 'strict-origin-when-cross-origin'
        response.headers['Permissions-Policy'] = 'camera=(), microphone=(), geolocation=()'
        if app.config['SESSION_COOKIE_SECURE']:
            response.headers['Strict-Transport-Security'] = 'max-age=31536000; includeSubDomains'
        if response.mimetype == 'text/html':
            response.headers.setdefault('Cache-Control', 'no-store')
        # send_file (documents, assets) dates its response, and Werkzeug's server (`make run`, the browser tests)
        # sends its own Date as well: two Date headers. Every server adds one (gunicorn drops the application's).
        response.headers.pop('Date', None)
        return response


def _register_template_helpers(app: Flask) -> None:
    from registry.geography.authorities import ATTRIBUTION
    from registry.templating import register_template_helpers

    app.jinja_env.globals['data_attribution'] = ATTRIBUTION
    register_template_helpers(app)
