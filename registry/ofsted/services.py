"""Importing Ofsted's register, checking settings against it, and carrying its judgements into settings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from registry.accounts.models import Role, User
from registry.audit.services import changes, record
from registry.db import unit_of_work, utcnow
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.indexing import enqueue_settings
from registry.notifications.services import queue_email
from registry.ofsted.importer import (
    REJECTION_KINDS,
    OfstedImportError,
    Rejection,
    normalise_heading,
    parse_file,
    validate_rows,
)
from registry.ofsted.models import OfstedImport, OfstedRegisterEntry
from registry.settings.models import Setting
from registry.settings.taxonomy import PROVISION_TYPES, RegistrationStatus, normalise_urn

__all__ = ['ImportSummary', 'OfstedImportError', 'SyncResult', 'VerificationResult', 'apply_register_to_settings',
           'import_register', 'latest_import', 'settings_with_problems', 'verify_setting']

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
    #: Settings whose registration became suspended, cancelled or resigned in this run.
    stopped_ids: list[int] = field(default_factory=list)


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
    #: Field → published heading for every column read, and the headings not read (printed by the command).
    mapped: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    #: Rejected rows per kind (every one, while ``rejections`` keeps only the first 1,000 reasons).
    rejection_counts: dict[str, int] = field(default_factory=dict)
    #: Abolished authorities mapped to their successors, and similar notes that did not stop a row.
    warnings: list[str] = field(default_factory=list)

    def lines(self, max_rejections: int = 50) -> list[str]:
        """The summary as printed at the end of ``flask registry import-ofsted``."""
        out = [
            f'Imported {self.file_name} ({self.format.upper()}, sha256 {self.sha256[:12]}…)',
            f'  rows read:  {self.total_rows}',
            f'  new:        {self.new}',
            f'  changed:    {self.changed}',
            f'  unchanged:  {self.unchanged}',
            f'  rejected:   {self.rejected}',
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


def import_register(path: str | Path, *, actor: User | None = None,
                    progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Upsert Ofsted's register from one published file, then carry it into settings, in one transaction.

    Every row is parsed and validated before anything is written. Rows that cannot be used (bad URN,
    unknown status, a date that is not a date) are counted with reasons and skipped.

    :param path: a CSV, XLSX or ODS file as Ofsted published it.
    :param actor: who ran the import (None for the command line).
    :param progress: called as ``progress(done, total)`` while rows are compared and written.
    :raises OfstedImportError: the file cannot be read or its columns cannot be mapped; nothing is written.
    """
    path = Path(path)
    started_at = utcnow()
    parsed = parse_file(path)
    validated = validate_rows(parsed, _authority_lookup())
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    total = len(validated.rows)

    with unit_of_work():
        existing = dict(db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash)).all())
        now = utcnow()
        new_rows: list[dict] = []
        changed_rows: list[dict] = []
        for done, row in enumerate(validated.rows, start=1):
            digest = row.row_hash
            previous = existing.get(row.urn)
            if previous != digest:
                values = {**row.values, 'row_hash': digest, 'source_file': path.name[:255], 'imported_at': now}
                (new_rows if previous is None else changed_rows).append(values)
            if progress and (done % 100 == 0 or done == total):
                progress(done, total)
        for batch in _batches(new_rows):
            db.session.execute(insert(OfstedRegisterEntry), batch)
        for batch in _batches(changed_rows):
            db.session.execute(update(OfstedRegisterEntry), batch)

        register_import = OfstedImport(
            file_name=path.name[:255], sha256=sha256, started_at=started_at,
            total_rows=total + validated.rejected,
            new_count=len(new_rows), changed_count=len(changed_rows),
            unchanged_count=total - len(new_rows) - len(changed_rows), rejected_count=validated.rejected,
            rejected_reasons=[rejection.as_dict() for rejection in validated.rejections],
            run_by_id=getattr(actor, 'id', None),
        )
        db.session.add(register_import)
        sync = _apply_register(actor=actor)
        register_import.settings_updated = len(sync.updated_ids)
        register_import.finished_at = utcnow()
        record('ofsted.import', register_import, actor=actor, reason=f'Imported {path.name}',
               after={'new': register_import.new_count, 'changed': register_import.changed_count,
                      'unchanged': register_import.unchanged_count, 'rejected': register_import.rejected_count,
                      'settings_updated': register_import.settings_updated,
                      'rejection_counts': validated.rejection_counts, 'warnings': validated.warnings})
        for callback in after_import:
            callback(register_import)

    return ImportSummary(
        file_name=path.name, sha256=sha256, format=parsed.format, total_rows=register_import.total_rows,
        new=register_import.new_count, changed=register_import.changed_count,
        unchanged=register_import.unchanged_count, rejected=register_import.rejected_count,
        rejections=validated.rejections, settings_updated=len(sync.updated_ids),
        registrations_stopped=len(sync.stopped_ids), import_id=register_import.id,
        mapped=parsed.mapped, ignored=parsed.ignored, rejection_counts=validated.rejection_counts,
        warnings=validated.warnings,
    )


def apply_register_to_settings(*, actor: User | None = None) -> SyncResult:
    """Copy judgements and registration status from the register into every setting that claims a URN in it."""
    with unit_of_work():
        return _apply_register(actor=actor)


def _apply_register(*, actor: User | None) -> SyncResult:
    """The body of :func:`apply_register_to_settings`, for use inside another unit of work."""
    result = SyncResult()
    stopped: list[tuple[Setting, RegistrationStatus]] = []
    pairs = db.session.execute(
        select(Setting, OfstedRegisterEntry).join(OfstedRegisterEntry, OfstedRegisterEntry.urn == Setting.urn)
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
        previous_status = setting.registration_status
        for name, value in after.items():
            setattr(setting, name, value)
        record('setting.ofsted_sync', setting, actor=actor, reason="Updated from Ofsted's register",
               before=before, after=after)
        result.updated_ids.append(setting.id)
        if 'registration_status' in after and setting.registration_status in STOPPED_STATUSES:
            stopped.append((setting, previous_status))
            result.stopped_ids.append(setting.id)
    enqueue_settings(result.updated_ids, reason='ofsted register')
    if stopped:
        _tell_board(stopped)
    return result


def _tell_board(stopped: list[tuple[Setting, RegistrationStatus]]) -> None:
    board = db.session.scalars(
        select(User).where(User.role.in_([Role.ASSESSOR, Role.BOARD_MEMBER]), User.is_active_account.is_(True))
        .order_by(User.id)
    ).all()
    count = len(stopped)
    subject = (f'Ofsted registration stopped for {count} setting{"s" if count != 1 else ""}: '
               'removed from the directory')
    for user in board:
        queue_email(user.email, 'ofsted_registration_stopped', subject, user=user, stopped=stopped)


# --- verification -----------------------------------------------------------------------------------------------


@dataclass
class VerificationResult:
    """A setting checked against Ofsted's register: the entry found (if any) and any problems."""

    setting: Setting
    entry: OfstedRegisterEntry | None
    problems: list[str]
    #: False when there was nothing to check against (no register imported yet, or no URN needed).
    checked: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def _check(setting: Setting, entry: OfstedRegisterEntry | None, register_loaded: bool) -> VerificationResult:
    info = setting.provision_type.info
    urn = normalise_urn(setting.urn or '')
    if not urn:
        if info.ofsted_registered:
            return VerificationResult(setting, None, [f'No Ofsted URN given: a {info.label.lower()} must be '
                                                      'registered with Ofsted'])
        return VerificationResult(setting, None, [], checked=False)
    if not register_loaded:
        return VerificationResult(setting, None, [], checked=False)
    if entry is None:
        return VerificationResult(setting, None, [f"URN {urn} is not in Ofsted's register"])
    problems: list[str] = []
    if entry.provision_type != setting.provision_type:
        problems.append(f'Ofsted registers URN {urn} as "{entry.provision_type_text}", '
                        f'but this setting is listed as "{info.label}"')
    if entry.registration_status != RegistrationStatus.ACTIVE:
        problems.append(f"Ofsted's register shows the registration as {entry.registration_status.label.lower()}")
    if entry.authority_code and entry.authority_code != setting.authority_code:
        problems.append(f'Ofsted records URN {urn} in {entry.local_authority_name}, but this setting\'s postcode '
                        f'is in {setting.authority.name if setting.authority else setting.authority_code}')
    return VerificationResult(setting, entry, problems)


def _register_loaded() -> bool:
    return db.session.scalar(select(OfstedRegisterEntry.urn).limit(1)) is not None


def verify_setting(setting: Setting) -> VerificationResult:
    """Check a setting's URN against the register: it exists, the provision type matches, registration is active."""
    urn = normalise_urn(setting.urn or '')
    entry = db.session.get(OfstedRegisterEntry, urn) if urn else None
    return _check(setting, entry, entry is not None or _register_loaded())


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
    return [result for result in results if result.problems]


def latest_import() -> OfstedImport | None:
    """The most recent completed import, for "register as at" notes."""
    return db.session.scalars(select(OfstedImport).order_by(OfstedImport.id.desc()).limit(1)).first()
