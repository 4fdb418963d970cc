"""Schemathesis against the API's OpenAPI document, over real HTTP, on SQLite and on PostgreSQL.

Every operation is exercised with the document's examples, its boundary values and generated input (valid and
invalid), and every response is checked against the document: no server errors, the documented status codes,
content types, headers and schemas, invalid input refused and valid input accepted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.entries import build_entries
from search.sql_engine import SqlEngine
from tests.live import ThreadedServer

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name('schemathesis')
CONFIG = Path(__file__).with_name('schemathesis.toml')
#: Generated cases per operation: enough to find the edges, small enough for ``make test`` on 2 cores.
MAX_EXAMPLES = int(os.environ.get('SCHEMATHESIS_MAX_EXAMPLES', '60'))


@pytest.fixture
def indexed(directory):
    SqlEngine().reindex(build_entries())
    return directory


def test_the_api_keeps_its_openapi_contract_with_no_server_errors(app, indexed, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.skip(f'schemathesis is not installed at {SCHEMATHESIS} (pip install -r requirements.txt)')
    report = tmp_path / 'schemathesis.xml'
    with ThreadedServer(app) as server:
        run = subprocess.run(
            [str(SCHEMATHESIS), '--config-file', str(CONFIG), 'run', f'{server.url}/api/v1/openapi.json',
             '--checks', 'all', '--continue-on-failure', '--phases', 'examples,coverage,fuzzing',
             '--max-examples', str(MAX_EXAMPLES), '--workers', '2', '--seed', '2026',
             '--suppress-health-check', 'all', '--report', 'junit', '--report-junit-path', str(report),
             '--no-color', '--output-sanitize', 'false'],
            cwd=tmp_path, capture_output=True, text=True, timeout=900, env={**os.environ, 'NO_COLOR': '1'})
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    assert 'No issues found' in output or 'passed' in output, output[-3000:]
