"""PLACEHOLDER: being written."""
from flask_login import login_required
from registry.accounts import bp

@bp.route('/sign-in')
def sign_in():
    return 'x'

@bp.route('/sign-out')
def sign_out():
    return 'x'

@bp.route('/register')
def register():
    return 'x'

@bp.route('/account')
@login_required
def account():
    return 'x'
