"""PLACEHOLDER: being written."""
from registry.admin import bp

@bp.route('/users')
def list_users():
    return 'x'
