"""Importing Ofsted's register, checking settings against it, and carrying its judgements into settings."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Date, and_, func, select, text, update
from sqlalchemy.orm import selectinload

from registry.accounts.models import Role, User
from registry.audit.services import changes, record
from registry.db import bulk_insert, unit_of_work, utcnow
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.indexing import enqueue_settings
from registry.notifications.services import queue_email
from registry.notifications.signals import setting_standing_changed
from registry.ofsted.importer import (
    REJECTION_KINDS,
    OfstedImportError,
    Rejection,
    normalise_heading,
    parse_file,
    validate_rows,
)
from registry.ofsted.models import (
    OfstedImport,
    OfstedRegisterEntry,
    OfstedReleaseCount,
    OfstedReviewItem,
    ReviewOutcome,
    ReviewReason,
)
from registry.settings.models import Setting
from registry.settings.taxonomy import PROVISION_TYPES, Judgement, ProvisionType, RegistrationStatus, normalise_urn

__all__ = ['ImportSummary', 'OfstedImportError', 'ReviewError', 'SupplyRow', 'SyncResult', 'VerificationResult',
           'allowed_outcomes', 'apply_register_to_settings', 'import_register', 'latest_import',
           'latest_release_date', 'ofsted_report_url', 'open_review_items', 'resolve_review_item',
           'settings_with_problems', 'supply_by_release', 'verify_setting']

#: Ofsted's page for a social care provider: its inspection reports. The register's "Web link" column is a
#: hyperlink whose text is all a CSV keeps, so the address is built from the URN (25 is social care).
OFSTED_REPORT_URL = 'https://reports.ofsted.gov.uk/provider/25/{urn}'


def ofsted_report_url(urn: str | None) -> str | None:
    """Ofsted's inspection report page for a URN."""
    return OFSTED_REPORT_URL.format(urn=normalise_urn(urn)) if urn else None

#: Register statuses that take a setting out of the directory; the board is told when one appears.
STOPPED_STATUSES = {RegistrationStatus.SUSPENDED, RegistrationStatus.CANCELLED, RegistrationStatus.RESIGNED}

#: Called as ``callback(register_import)`` at the end of every import, inside its transaction (feature packages
#: such as market keep a history of each release); the app factory's packages append to it.
after_import: list[Callable[[OfstedImport], None]] = []

#: Rows per INSERT/UPDATE statement: large enough to be quick, small enough for SQLite's variable limit.
BATCH_SIZE = 500


@dataclass
class SyncResult:
    """Settings changed by carrying the register into them."""

    updated_ids: list[int] = field(default_factory=list)
    #: Settings whose registration became suspended, cancelled or resigned, or whose URN left the register.
    stopped_ids: list[int] = field(default_factory=list)
    #: Items put in the board's review queue.
    review_item_ids: list[int] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What one import did: counts, and a reason for every rejected row."""

    file_name: str
    sha256: str
    format: str
    total_rows: int
    new: int
    changed: int
    unchanged: int
    rejected: int
    rejections: list[Rejection]
    settings_updated: int
    registrations_stopped: int
    import_id: int
    as_at: date | None = None
    historical: bool = False
    #: Providers in the register before and missing from this release.
    removed: int = 0
    review_items: int = 0
    #: Field → published heading for every column read, and the headings not read (printed by the command).
    mapped: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    #: Rejected rows per kind (every one, while ``rejections`` keeps only the first 1,000 reasons).
    rejection_counts: dict[str, int] = field(default_factory=dict)
    #: Abolished authorities mapped to their successors, and similar notes that did not stop a row.
    warnings: list[str] = field(default_factory=list)

    def lines(self, max_rejections: int = 50) -> list[str]:
        """The summary as printed at the end of ``flask registry import-ofsted``."""
        as_at = f' as at {self.as_at:%d/%m/%Y}' if self.as_at else ''
        if self.historical:
            return [f'Recorded {self.file_name}{as_at} for the history only ({self.format.upper()}, sha256 '
                    f'{self.sha256[:12]}…): the register holds newer facts and was not changed',
                    f'  rows read:  {self.total_rows}', f'  rejected:   {self.rejected}']
        out = [
            f'Imported {self.file_name}{as_at} ({self.format.upper()}, sha256 {self.sha256[:12]}…)',
            f'  rows read:  {self.total_rows}',
            f'  new:        {self.new}',
            f'  changed:    {self.changed}',
            f'  unchanged:  {self.unchanged}',
            f'  rejected:   {self.rejected}',
            f'  no longer registered (missing from this release): {self.removed}',
            f'Settings updated from the register: {self.settings_updated}',
        ]
        out.append(f'Columns read ({len(self.mapped)}):')
        out.extend(f'  {name}: "{heading}"' for name, heading in self.mapped.items())
        out.append(f'Columns ignored ({len(self.ignored)}): '
                   + (', '.join(f'"{heading}"' for heading in self.ignored) or 'none'))
        out.extend(f'Warning: {warning}' for warning in self.warnings)
        if self.rejection_counts:
            out.append('Rejected rows by reason: ' + ', '.join(
                f'{REJECTION_KINDS.get(kind, kind)}: {count}' for kind, count in sorted(self.rejection_counts.items())))
        if self.registrations_stopped:
            out.append(f'  {self.registrations_stopped} no longer registered: delisted, and the board has been told')
        if self.review_items:
            out.append(f"  {self.review_items} put in the board's review queue")
        for rejection in self.rejections[:max_rejections]:
            out.append(f'  row {rejection.row_number} ({rejection.urn or "no URN"}): {rejection.reason}')
        if self.rejected > max_rejections:
            out.append(f'  … and {self.rejected - max_rejections} more rejected rows')
        return out


def _authority_lookup() -> dict[str, str]:
    """Normalised authority name, in Ofsted's spelling and the ONS one, → authority code."""
    lookup: dict[str, str] = {}
    for authority in db.session.scalars(select(LocalAuthority)):
        for name in (authority.ofsted_name, authority.name):
            key = normalise_heading(name)
            lookup[key] = authority.code
            lookup[key.replace('&', 'and')] = authority.code
            lookup[key.replace(' and ', ' & ')] = authority.code
    return lookup


def _batches(items: list[dict], size: int = BATCH_SIZE) -> Iterable[list[dict]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def latest_release_date() -> date | None:
    """The "as at" date of the newest release imported into the register (historical ones excluded)."""
    return db.session.execute(_LATEST_RELEASE).scalar()


#: What :func:`latest_release_date` asks, as text: every directory page asks it, and the ORM's select cost it twice
#: what the database does.
_LATEST_RELEASE = text(f'SELECT max(as_at) AS as_at FROM {OfstedImport.__tablename__} '
                       'WHERE historical = :historical').bindparams(historical=False).columns(as_at=Date)


def _release_date(parsed_as_at: date | None, given: date | None, file_name: str) -> date:
    if parsed_as_at and given and parsed_as_at != given:
        raise OfstedImportError(f'{file_name} says it is the register as at {parsed_as_at:%d/%m/%Y}, but '
                                f'--as-at gives {given:%d/%m/%Y}; check which release this is')
    release = parsed_as_at or given
    if release is None:
        raise OfstedImportError(f'{file_name} does not say which date it describes (no "as at" in its title rows): '
                                'give the release date with --as-at YYYY-MM-DD')
    return release


def _release_counts(rows, register_import: OfstedImport) -> list[dict]:
    """Active registrations and places per (provision type, authority) in one release's rows."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        values = row.values
        if values['provision_type'] is None or values['registration_status'] != RegistrationStatus.ACTIVE:
            continue
        total = totals[(values['provision_type'], values['authority_code'])]
        total[0] += 1
        total[1] += values['places'] or 0
    return [{'import_id': register_import.id, 'as_at': register_import.as_at, 'provision_type': ptype,
             'authority_code': authority, 'providers': providers, 'places': places}
            for (ptype, authority), (providers, places) in sorted(totals.items(), key=lambda item: (
                item[0][0].value, item[0][1] or ''))]


def import_register(path: str | Path, *, actor: User | None = None,
                    progress: Callable[[int, int], None] | None = None, as_at: date | None = None,
                    historical: bool = False, accept_drop: bool = False,
                    max_drop_share: float | None = None) -> ImportSummary:
    """Bring Ofsted's register up to one published release, then carry it into settings, in one transaction.

    Every row is parsed and validated before anything is written. Rows that cannot be used (bad URN,
    unknown status, a date that is not a date) are counted with reasons and skipped.

    Releases are snapshots ("providers at 31 March"), so a full release is the whole truth as at its date:
    providers in the register but missing from it are marked no longer registered (``removed_as_at``), which
    takes their settings out of the directory and puts them in the board's review queue. A release older
    than the latest imported is refused unless ``historical``: then only its per-release counts are kept
    (:func:`supply_by_release`) and the register, which holds newer facts, is left untouched.

    :param path: a CSV, XLSX or ODS file as Ofsted published it.
    :param actor: who ran the import (None for the command line).
    :param progress: called as ``progress(done, total)`` while rows are compared and written.
    :param as_at: the release's date, when its title rows do not give it.
    :param historical: record an older release's counts without changing the register.
    :param accept_drop: import even when more than ``max_drop_share`` of registered providers would be dropped.
    :param max_drop_share: defaults to ``OFSTED_MAX_DROP_SHARE`` (0.10).
    :raises OfstedImportError: the file cannot be read, its date is unknown, it is older than the register,
        or it would drop too many providers; nothing is written.
    """
    path = Path(path)
    started_at = utcnow()
    parsed = parse_file(path)
    validated = validate_rows(parsed, _authority_lookup())
    release = _release_date(parsed.as_at or validated.as_at, as_at, path.name)
    latest = latest_release_date()
    older = latest is not None and release < latest
    if older and not historical:
        raise OfstedImportError(f'{path.name} is the register as at {release:%d/%m/%Y}, older than the latest '
                                f'imported release ({latest:%d/%m/%Y}); importing it would overwrite newer facts. '
                                'To record it for the history only, import it with --historical')
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    total = len(validated.rows)
    rejections = [rejection.as_dict() for rejection in validated.rejections]

    if older:
        with unit_of_work():
            register_import = OfstedImport(
                file_name=path.name[:255], sha256=sha256, started_at=started_at, as_at=release, historical=True,
                total_rows=total + validated.rejected, unchanged_count=0,
                rejected_count=validated.rejected, rejected_reasons=rejections,
                run_by_id=getattr(actor, 'id', None), finished_at=utcnow())
            db.session.add(register_import)
            db.session.flush()
            counts = _release_counts(validated.rows, register_import)
            if counts:
                db.session.execute(bulk_insert(OfstedReleaseCount), counts)
            record('ofsted.import', register_import, actor=actor,
                   reason=f'Recorded {path.name} (as at {release:%d/%m/%Y}) for the history only',
                   after={'as_at': release.isoformat(), 'historical': True, 'rows': total,
                          'rejected': validated.rejected, 'rejection_counts': validated.rejection_counts,
                          'warnings': validated.warnings})
        return ImportSummary(
            file_name=path.name, sha256=sha256, format=parsed.format, total_rows=register_import.total_rows,
            new=0, changed=0, unchanged=0, rejected=register_import.rejected_count,
            rejections=validated.rejections, settings_updated=0, registrations_stopped=0,
            import_id=register_import.id, as_at=release, historical=True, mapped=parsed.mapped,
            ignored=parsed.ignored, rejection_counts=validated.rejection_counts, warnings=validated.warnings)

    existing = {urn: (digest, removed) for urn, digest, removed in db.session.execute(
        select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash, OfstedRegisterEntry.removed_as_at))}
    present_before = {urn for urn, (_digest, removed) in existing.items() if removed is None}
    in_release = {row.urn for row in validated.rows}
    in_release.update(normalise_urn(rejection.urn) for rejection in validated.rejections if rejection.urn)
    missing = sorted(present_before - in_release)
    share = current_app.config['OFSTED_MAX_DROP_SHARE'] if max_drop_share is None else max_drop_share
    if present_before and len(missing) > share * len(present_before) and not accept_drop:
        raise OfstedImportError(
            f'{path.name} would mark {len(missing)} of the {len(present_before)} providers in the register '
            f'({len(missing) / len(present_before):.0%}) as no longer registered, more than the {share:.0%} '
            'allowed: a cut or partial file looks like mass closures. If the release is complete, import it '
            'again with --accept-drop')

    with unit_of_work():
        now = utcnow()
        new_rows: list[dict] = []
        changed_rows: list[dict] = []
        for done, row in enumerate(validated.rows, start=1):
            digest = row.row_hash
            previous = existing.get(row.urn)
            if previous is None or previous != (digest, None):
                values = {**row.values, 'row_hash': digest, 'source_file': path.name[:255], 'imported_at': now,
                          'removed_as_at': None}
                (new_rows if previous is None else changed_rows).append(values)
            if progress and (done % 100 == 0 or done == total):
                progress(done, total)
        for batch in _batches(new_rows):
            db.session.execute(bulk_insert(OfstedRegisterEntry), batch)
        for batch in _batches(changed_rows):
            db.session.execute(update(OfstedRegisterEntry), batch)
        for batch in _batches(missing):
            db.session.execute(update(OfstedRegisterEntry).where(OfstedRegisterEntry.urn.in_(batch))
                               .values(removed_as_at=release).execution_options(synchronize_session=False))

        register_import = OfstedImport(
            file_name=path.name[:255], sha256=sha256, started_at=started_at, as_at=release,
            total_rows=total + validated.rejected,
            new_count=len(new_rows), changed_count=len(changed_rows),
            unchanged_count=total - len(new_rows) - len(changed_rows), rejected_count=validated.rejected,
            rejected_reasons=rejections, removed_count=len(missing),
            run_by_id=getattr(actor, 'id', None),
        )
        db.session.add(register_import)
        db.session.flush()
        counts = _release_counts(validated.rows, register_import)
        if counts:
            db.session.execute(bulk_insert(OfstedReleaseCount), counts)
        touched = [values['urn'] for values in new_rows + changed_rows] + missing
        sync = _apply_register(actor=actor, register_import=register_import, removed_urns=missing,
                               reindex_ids=_setting_ids_for(touched))
        register_import.settings_updated = len(sync.updated_ids)
        register_import.finished_at = utcnow()
        record('ofsted.import', register_import, actor=actor, reason=f'Imported {path.name}',
               after={'as_at': release.isoformat(), 'new': register_import.new_count,
                      'changed': register_import.changed_count, 'unchanged': register_import.unchanged_count,
                      'rejected': register_import.rejected_count, 'removed': register_import.removed_count,
                      'settings_updated': register_import.settings_updated,
                      'review_items': len(sync.review_item_ids),
                      'rejection_counts': validated.rejection_counts, 'warnings': validated.warnings})
        for callback in after_import:
            callback(register_import)

    return ImportSummary(
        file_name=path.name, sha256=sha256, format=parsed.format, total_rows=register_import.total_rows,
        new=register_import.new_count, changed=register_import.changed_count,
        unchanged=register_import.unchanged_count, rejected=register_import.rejected_count,
        rejections=validated.rejections, settings_updated=len(sync.updated_ids),
        registrations_stopped=len(sync.stopped_ids), import_id=register_import.id, as_at=release,
        removed=len(missing), review_items=len(sync.review_item_ids),
        mapped=parsed.mapped, ignored=parsed.ignored, rejection_counts=validated.rejection_counts,
        warnings=validated.warnings,
    )


def _setting_ids_for(urns: list[str]) -> list[int]:
    """The settings claiming these URNs: their verification (so their listing) may have changed."""
    ids: list[int] = []
    for batch in _batches(sorted(set(urns))):
        ids.extend(db.session.scalars(select(Setting.id).where(Setting.urn.in_(batch))))
    return ids


def apply_register_to_settings(*, actor: User | None = None) -> SyncResult:
    """Copy judgements and registration status from the register into every setting that claims a URN in it."""
    with unit_of_work():
        return _apply_register(actor=actor)


_STOPPED_REASONS = {RegistrationStatus.SUSPENDED: ReviewReason.REGISTRATION_SUSPENDED,
                    RegistrationStatus.CANCELLED: ReviewReason.REGISTRATION_CANCELLED,
                    RegistrationStatus.RESIGNED: ReviewReason.REGISTRATION_RESIGNED}


def _apply_register(*, actor: User | None, register_import: OfstedImport | None = None,
                    removed_urns: list[str] = (), reindex_ids: list[int] = ()) -> SyncResult:
    """The body of :func:`apply_register_to_settings`, for use inside another unit of work.

    Settings whose registration stops, whose URN has gone from the release, or whose judgement falls to
    inadequate go into the board's review queue; an inadequate judgement also suspends the setting
    (``OFSTED_SUSPEND_ON_INADEQUATE``) until a board member decides.
    """
    result = SyncResult()
    items: list[OfstedReviewItem] = []
    announcements: list[tuple] = []
    suspend_inadequate = current_app.config['OFSTED_SUSPEND_ON_INADEQUATE']
    pairs = db.session.execute(
        select(Setting, OfstedRegisterEntry).join(OfstedRegisterEntry, OfstedRegisterEntry.urn == Setting.urn)
        .where(OfstedRegisterEntry.removed_as_at.is_(None))
        .order_by(Setting.id).execution_options(populate_existing=True)
    ).all()
    for setting, entry in pairs:
        wanted: dict = {}
        # A blank judgement means "not yet inspected under this framework"; it never erases a known one.
        if entry.overall_judgement is not None:
            wanted['judgement'] = entry.overall_judgement
            wanted['judgement_date'] = entry.latest_inspection_date
        if setting.provision_type.info.ofsted_registered:
            wanted['registration_status'] = entry.registration_status
        before, after = changes(setting, list(wanted), wanted)
        if not after:
            continue
        previous_status, previous_judgement = setting.registration_status, setting.judgement
        for name, value in after.items():
            setattr(setting, name, value)
        record('setting.ofsted_sync', setting, actor=actor, reason="Updated from Ofsted's register",
               before=before, after=after)
        result.updated_ids.append(setting.id)
        if 'registration_status' in after and setting.registration_status in STOPPED_STATUSES:
            result.stopped_ids.append(setting.id)
            items.append(_review_item(
                setting, register_import, _STOPPED_REASONS[setting.registration_status],
                f'Registration {before["registration_status"].label.lower()} -> '
                f'{setting.registration_status.label.lower()}'))
            announcements.append((setting, 'registration-stopped', previous_status, setting.registration_status))
        elif previous_judgement is not None and setting.judgement is not None \
                and Judgement(setting.judgement).rank < Judgement(previous_judgement).rank:
            announcements.append((setting, 'judgement-lowered', previous_judgement, setting.judgement))
        if after.get('judgement') == Judgement.INADEQUATE:
            previous = before.get('judgement')
            inspected = f' (inspection {entry.latest_inspection_date:%d/%m/%Y})' if entry.latest_inspection_date else ''
            item = _review_item(setting, register_import, ReviewReason.JUDGEMENT_INADEQUATE,
                                f'Overall judgement {previous.label.lower() if previous else "none"} -> '
                                f'inadequate{inspected}')
            if suspend_inadequate and setting.suspended_at is None:
                setting.suspended_at = utcnow()
                setting.suspension_reason = (f"Ofsted judged it inadequate{inspected}: suspended from the directory "
                                             "until the national board has reviewed it")
                item.suspended_setting = True
                record('setting.suspend', setting, actor=actor, reason=setting.suspension_reason,
                       after={'suspended_at': setting.suspended_at.isoformat()})
            items.append(item)
    if removed_urns:
        registered = [ptype for ptype, info in PROVISION_TYPES.items() if info.ofsted_registered]
        for batch in _batches(list(removed_urns)):
            for setting in db.session.scalars(select(Setting).where(
                    Setting.urn.in_(batch), Setting.provision_type.in_(registered)).order_by(Setting.id)):
                as_at = f' as at {register_import.as_at:%d/%m/%Y}' if register_import and register_import.as_at else ''
                items.append(_review_item(setting, register_import, ReviewReason.REMOVED_FROM_REGISTER,
                                          f"URN {setting.urn} is missing from Ofsted's release{as_at}: "
                                          'the provider is no longer registered'))
                result.stopped_ids.append(setting.id)
    enqueue_settings([*reindex_ids, *result.updated_ids, *(item.setting_id for item in items)],
                     reason='ofsted register')
    if items:
        db.session.flush()
        result.review_item_ids = [item.id for item in items]
        for item in items:
            record('ofsted.review_open', item, actor=actor, reason=item.detail,
                   after={'setting_id': item.setting_id, 'reason': item.reason.value,
                          'suspended_setting': item.suspended_setting})
        _tell_board(items)
    # after the board's summary email, so people it reached are not emailed the same news again
    for setting, change, before, after in announcements:
        setting_standing_changed.send(setting, change=change, before=before, after=after)
    return result


def _review_item(setting: Setting, register_import: OfstedImport | None, reason: ReviewReason,
                 detail: str) -> OfstedReviewItem:
    item = OfstedReviewItem(setting=setting, setting_id=setting.id, register_import=register_import,
                            reason=reason, detail=detail[:2000], suspended_setting=False)
    db.session.add(item)
    return item


def _tell_board(items: list[OfstedReviewItem]) -> None:
    board = db.session.scalars(
        select(User).where(User.role.in_([Role.ASSESSOR, Role.BOARD_MEMBER]), User.is_active_account.is_(True))
        .order_by(User.id)
    ).all()
    count = len(items)
    subject = (f"Ofsted's register: {count} setting{'s' if count != 1 else ''} removed from the directory "
               'for the board to review')
    for user in board:
        queue_email(user.email, 'ofsted_registration_stopped', subject, user=user, items=items)


# --- the board's review queue ---------------------------------------------------------------------------------


class ReviewError(Exception):
    """A review item cannot be resolved that way (already resolved, or nothing to lift)."""


def open_review_items() -> list[OfstedReviewItem]:
    """Settings an import delisted, oldest first, waiting for a board member's outcome."""
    return list(db.session.scalars(
        select(OfstedReviewItem).where(OfstedReviewItem.resolved_at.is_(None))
        .options(selectinload(OfstedReviewItem.setting).selectinload(Setting.organisation))
        .order_by(OfstedReviewItem.created_at, OfstedReviewItem.id)))


def resolved_review_items(limit: int = 50) -> list[OfstedReviewItem]:
    """The most recently resolved items, newest first."""
    return list(db.session.scalars(
        select(OfstedReviewItem).where(OfstedReviewItem.resolved_at.is_not(None))
        .options(selectinload(OfstedReviewItem.setting).selectinload(Setting.organisation))
        .order_by(OfstedReviewItem.resolved_at.desc(), OfstedReviewItem.id.desc()).limit(limit)))


def allowed_outcomes(item: OfstedReviewItem) -> list[ReviewOutcome]:
    """Lifting only undoes a suspension the import applied and that is still in place."""
    outcomes = [ReviewOutcome.UPHELD]
    if item.suspended_setting and item.setting.suspended_at is not None:
        outcomes.append(ReviewOutcome.LIFTED)
    return outcomes


def resolve_review_item(item: OfstedReviewItem, outcome: ReviewOutcome, *, actor: User,
                        reason: str) -> OfstedReviewItem:
    """Record a board member's outcome for a review item; ``lifted`` also lifts the import's suspension.

    :raises ReviewError: the item is already resolved, or the outcome is not open to it.
    """
    reason = (reason or '').strip()
    if not item.is_open:
        raise ReviewError('This item has already been resolved')
    if outcome not in allowed_outcomes(item):
        raise ReviewError('There is no suspension to lift: the register itself keeps this setting out of the '
                          'directory until Ofsted registers it as active again')
    if not reason:
        raise ReviewError('Give the reasons for the outcome')
    with unit_of_work():
        item.outcome = outcome
        item.outcome_reason = reason
        item.resolved_at = utcnow()
        item.resolved_by_id = actor.id
        setting = item.setting
        if outcome == ReviewOutcome.LIFTED:
            before = {'suspended_at': setting.suspended_at.isoformat(), 'suspension_reason': setting.suspension_reason}
            setting.suspended_at = None
            setting.suspension_reason = ''
            record('setting.unsuspend', setting, actor=actor, reason=reason, before=before,
                   after={'suspended_at': None})
        enqueue_settings([setting.id], reason='ofsted review')
        record('ofsted.review_resolve', item, actor=actor, reason=reason,
               before={'outcome': None}, after={'outcome': outcome.value, 'setting_id': setting.id})
    return item


# --- supply over time -----------------------------------------------------------------------------------------


class SupplyRow(NamedTuple):
    """Registered supply in one release: active registrations ("homes") and their places."""

    as_at: date
    provision_type: ProvisionType
    authority_code: str | None
    homes: int
    places: int


def supply_by_release(provision_type: ProvisionType | None = None,
                      authority_code: str | None = None) -> list[SupplyRow]:
    """Active registrations ("homes") and places per release, provision type and authority, oldest first.

    Each release date counts once: when a release was imported more than once, its latest import wins.
    Rows unpack as ``(as_at, provision_type, authority_code, homes, places)``; ``authority_code`` is None for
    providers outside England. Historical releases count too: they exist for this.
    """
    latest_per_release = (select(OfstedReleaseCount.as_at, func.max(OfstedReleaseCount.import_id).label('import_id'))
                          .group_by(OfstedReleaseCount.as_at).subquery())
    query = (select(OfstedReleaseCount).join(latest_per_release, and_(
        latest_per_release.c.as_at == OfstedReleaseCount.as_at,
        latest_per_release.c.import_id == OfstedReleaseCount.import_id)))
    if provision_type is not None:
        query = query.where(OfstedReleaseCount.provision_type == provision_type)
    if authority_code is not None:
        query = query.where(OfstedReleaseCount.authority_code == authority_code)
    rows = db.session.scalars(query).all()
    return sorted((SupplyRow(row.as_at, row.provision_type, row.authority_code, row.providers, row.places)
                   for row in rows), key=lambda row: (row.as_at, row.provision_type.value, row.authority_code or ''))


# --- verification -----------------------------------------------------------------------------------------------


@dataclass
class VerificationResult:
    """A setting checked against Ofsted's register: the entry found (if any) and any problems."""

    setting: Setting
    entry: OfstedRegisterEntry | None
    problems: list[str]
    #: False when there was nothing to check against (no register imported yet, or no URN needed).
    checked: bool = True
    #: The release checked against (set by :func:`verify_setting`).
    register_as_at: date | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def report_url(self) -> str | None:
        """Ofsted's inspection report page, once the URN is known to be Ofsted's."""
        return ofsted_report_url(self.entry.urn) if self.entry is not None else None


def _check(setting: Setting, entry: OfstedRegisterEntry | None, register_loaded: bool) -> VerificationResult:
    info = setting.provision_type.info
    urn = normalise_urn(setting.urn or '')
    if not urn:
        if info.ofsted_registered:
            return VerificationResult(setting, None, [f'No Ofsted URN given: a {info.label.lower()} must be '
                                                      'registered with Ofsted'])
        return VerificationResult(setting, None, [], checked=False)
    if not register_loaded:
        return VerificationResult(setting, None, [f"Ofsted's register has not been imported yet, so URN {urn} cannot "
                                                  'be checked'], checked=False)
    if entry is None:
        return VerificationResult(setting, None, [f"URN {urn} is not in Ofsted's register"])
    problems: list[str] = []
    if entry.removed_as_at is not None:
        problems.append(f"URN {urn} is no longer in Ofsted's register: it is missing from the release as at "
                        f'{entry.removed_as_at:%d/%m/%Y}')
    if entry.provision_type != setting.provision_type:
        problems.append(f'Ofsted registers URN {urn} as "{entry.provision_type_text}", '
                        f'but this setting is listed as "{info.label}"')
    if entry.registration_status != RegistrationStatus.ACTIVE:
        problems.append(f"Ofsted's register shows the registration as {entry.registration_status.label.lower()}")
    if entry.authority_code is None:
        problems.append(f'Ofsted records URN {urn} in "{entry.local_authority_name}", which is not an English '
                        "children's services authority")
    elif entry.authority_code != setting.authority_code:
        problems.append(f'Ofsted records URN {urn} in {entry.local_authority_name}, but this setting\'s postcode '
                        f'is in {setting.authority.name if setting.authority else setting.authority_code}')
    return VerificationResult(setting, entry, problems)


def _register_loaded() -> bool:
    return db.session.scalar(select(OfstedRegisterEntry.urn).limit(1)) is not None


def verify_setting(setting: Setting) -> VerificationResult:
    """Check a setting's URN against the register: it exists, the provision type matches, registration is active."""
    urn = normalise_urn(setting.urn or '')
    entry = db.session.get(OfstedRegisterEntry, urn) if urn else None
    result = _check(setting, entry, entry is not None or _register_loaded())
    result.register_as_at = latest_release_date()
    return result


def settings_with_problems() -> list[VerificationResult]:
    """Every setting whose claim to an Ofsted registration does not match the register, by organisation."""
    registered_types = [ptype for ptype, info in PROVISION_TYPES.items() if info.ofsted_registered]
    settings = db.session.scalars(
        select(Setting).where(Setting.urn.is_not(None) | Setting.provision_type.in_(registered_types))
        .order_by(Setting.organisation_id, Setting.name)
    ).all()
    urns = {normalise_urn(setting.urn) for setting in settings if setting.urn}
    entries = {entry.urn: entry for entry in db.session.scalars(
        select(OfstedRegisterEntry).where(OfstedRegisterEntry.urn.in_(urns)))} if urns else {}
    loaded = _register_loaded()
    results = [_check(setting, entries.get(normalise_urn(setting.urn or '')), loaded) for setting in settings]
    return [result for result in results if result.problems and result.checked]


def latest_import() -> OfstedImport | None:
    """The import that brought the register to its latest release, for "register as at" notes.

    Historical imports (older releases recorded for their counts) never count: the register is not as at them.
    """
    return db.session.scalars(select(OfstedImport).where(OfstedImport.historical.is_(False))
                              .order_by(OfstedImport.as_at.desc().nulls_last(), OfstedImport.id.desc())
                              .limit(1)).first()
