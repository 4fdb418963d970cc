"""Signals the core sends about a change in someone's standing; the notifications package decides who is told.

The core (``registry``) imports no feature package, so it announces instead of notifying: receivers run in the
sender's transaction, like the rest of the change.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``setting_standing_changed.send(setting, change=..., before=..., after=...)``, where ``change`` is
#: ``'registration-stopped'`` (``before``/``after``: registration statuses) or ``'judgement-lowered'`` (judgements).
setting_standing_changed = _signals.signal('setting-standing-changed')
