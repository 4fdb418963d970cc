"""The national qualification: schemes as data, applications, board review, qualifications, local lists."""

from flask import Blueprint

bp = Blueprint('qualification', __name__, template_folder='templates', url_prefix='/qualification')


@bp.record_once
def _upload_limit(state) -> None:
    """Refuse request bodies much larger than the evidence size limit before they are read (413)."""
    config = state.app.config
    if config.get('MAX_CONTENT_LENGTH') is None:
        config['MAX_CONTENT_LENGTH'] = (int(config.get('MAX_UPLOAD_MB', 20)) + 1) * 1024 * 1024


@bp.record_once
def _storage_references(state) -> None:
    """Evidence rows refer to stored documents: ``flask registry storage-check`` must not remove those."""
    from registry.storage import register_references

    def evidence_keys():
        from sqlalchemy import select

        from qualification.applications import Evidence
        from registry.extensions import db

        return db.session.scalars(select(Evidence.storage_key).distinct())

    register_references(state.app, 'qualification evidence', evidence_keys)


from qualification import board_views, cli, local_views, scheme_views, views  # noqa: E402,F401
