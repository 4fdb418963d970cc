"""PLACEHOLDER: being written."""
from registry.organisations import bp

@bp.route('/')
def list_organisations():
    return 'x'
