"""Audit actions in words for the pages that list them; the codes stay in the database and the exports."""

from __future__ import annotations

ACTION_LABELS = {
    'user.create': 'Account created',
    'user.invite': 'Invited',
    'user.register_existing': 'Someone tried to register with this email address',
    'user.resend_verification': 'Confirmation email sent again',
    'user.verify_email': 'Email address confirmed',
    'user.lock': 'Locked after failed sign-ins',
    'user.sign_in': 'Signed in',
    'user.request_password_reset': 'Asked to reset the password',
    'user.reset_password': 'Password reset',
    'user.change_password': 'Password changed',
    'user.set_up_second_factor': 'Second factor set up',
    'user.deactivate': 'Account deactivated',
    'user.reactivate': 'Account reactivated',
    'user.reset_second_factor': 'Second factor reset',
    'account.sign_out': 'Signed out',
    'setting.create': 'Setting added',
    'setting.update': 'Details changed',
    'setting.ofsted_sync': "Updated from Ofsted's register",
}


def action_label(action: str) -> str:
    """``user.invite`` -> "Invited"; an action without a label reads as words ("shortlist.note_add" ->
    "Shortlist: note add"), never as a code."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    subject, _, verb = action.partition('.')
    words = (verb or subject).replace('_', ' ').replace('-', ' ')
    return f"{subject.replace('_', ' ').capitalize()}: {words}" if verb else words.capitalize()
