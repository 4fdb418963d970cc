"""A document folder that cannot be written (read-only, or full) while a provider saves a section with a file.

Real folders: read-only by ``chattr +i`` when the tests run as root (root ignores permissions) or by
``chmod`` otherwise; full by a tiny tmpfs mounted over the folder (skipped where mounting is not allowed).
The provider must get a clear error on the form with their typed answers still in it, nothing half-saved,
no temporary file left behind, and uploads must work again as soon as the folder does.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import func, select

from qualification import services
from qualification.applications import Answer, Evidence
from registry.extensions import db
from tests.qualification.conftest import PDF_BYTES, make_member, make_organisation

TYPED = 'Children sit on our interview panels and help write the house rules every spring.'


def _all_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob('*') if path.is_file()) if root.exists() else []


@contextmanager
def read_only(folder: Path):
    """Make ``folder`` and everything under it impossible to write, even for root."""
    folders = [folder, *(path for path in folder.rglob('*') if path.is_dir())]
    if os.geteuid() == 0:
        if not shutil.which('chattr'):
            pytest.skip('running as root needs chattr (e2fsprogs) to make a folder read-only')
        result = subprocess.run(['chattr', '+i', *map(str, folders)], capture_output=True, text=True)
        if result.returncode:
            pytest.skip(f'cannot make a folder immutable here: {result.stderr.strip()}')
        try:
            yield
        finally:
            subprocess.run(['chattr', '-i', *map(str, folders)], check=True)
    else:
        modes = {path: path.stat().st_mode for path in folders}
        for path in folders:
            path.chmod(0o555)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)


@pytest.fixture
def section_post(app_ctx, client, login_as, tmp_path, monkeypatch):
    """A provider's draft on a storage folder of its own; returns a function posting the policies section."""
    folder = tmp_path / 'documents'
    folder.mkdir()
    monkeypatch.setitem(app_ctx.config, 'STORAGE_BACKEND', 'local')
    monkeypatch.setitem(app_ctx.config, 'STORAGE_LOCAL_DIR', str(folder))
    organisation = make_organisation()
    provider = make_member(organisation)
    application = services.start_application(organisation, ['childrens-homes'], actor=provider)
    login_as(provider)
    url = url_for('qualification.edit_section', application_id=application.id, section_id='policies')

    def post(content: bytes = PDF_BYTES, name: str = 'complaints.pdf'):
        return client.post(url, content_type='multipart/form-data', data={
            'pol-complaints': (io.BytesIO(content), name), 'pol-whistleblowing': 'yes',
            'pol-children-involved': TYPED, 'pol-data-protection': 'yes',
            'save_and_return': 'Save and come back later'})

    post.folder = folder
    post.application_id = application.id
    return post


def _saved(application_id: int) -> tuple[int, int]:
    db.session.expire_all()
    answers = db.session.scalar(select(func.count(Answer.id)).where(Answer.application_id == application_id))
    evidence = db.session.scalar(select(func.count(Evidence.id)).where(Evidence.application_id == application_id))
    return answers, evidence


def _assert_refused_keeping_the_answers(response) -> None:
    assert response.status_code == 503
    assert response.headers['Retry-After']
    page = response.get_data(as_text=True)
    assert 'govuk-error-summary' in page
    assert 'the document store is not available at the moment' in page
    assert '#pol-complaints' in page  # the error summary links to the file question
    assert TYPED in page  # what the provider typed is still in the form


def test_a_read_only_folder_gives_a_clear_error_keeps_the_answers_and_uploads_work_once_it_is_writable(section_post):
    with read_only(section_post.folder):
        refused = section_post()
        _assert_refused_keeping_the_answers(refused)
        again = section_post()
        _assert_refused_keeping_the_answers(again)
    assert _saved(section_post.application_id) == (0, 0)  # nothing half-saved
    assert _all_files(section_post.folder) == []  # and nothing left behind
    accepted = section_post()
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:2000]
    assert _saved(section_post.application_id) == (3, 1)
    [stored] = _all_files(section_post.folder)
    assert (section_post.folder / stored).read_bytes() == PDF_BYTES


@contextmanager
def tiny_tmpfs(folder: Path, size: str):
    result = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(folder)],
                            capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f'cannot mount a tmpfs here to fill a disk: {result.stderr.strip()}')
    try:
        yield
    finally:
        subprocess.run(['umount', str(folder)], check=True)


def test_a_full_disk_leaves_no_partial_file_and_uploads_work_once_there_is_room(section_post):
    big = PDF_BYTES + b'%' + b'0' * (200 * 1024)
    with tiny_tmpfs(section_post.folder, '64k'):
        refused = section_post(big, 'complaints-full-copy.pdf')
        _assert_refused_keeping_the_answers(refused)
        assert _all_files(section_post.folder) == []  # the half-written file was removed, so its space is free
        assert _saved(section_post.application_id) == (0, 0)
        subprocess.run(['mount', '-o', 'remount,size=2m', str(section_post.folder)], check=True)
        accepted = section_post(big, 'complaints-full-copy.pdf')
        assert accepted.status_code == 302, accepted.get_data(as_text=True)[:2000]
        [stored] = _all_files(section_post.folder)
        assert (section_post.folder / stored).read_bytes() == big
    assert _saved(section_post.application_id) == (3, 1)
