"""A small Elasticsearch stand-in on loopback, for tests that cannot have a cluster.

It speaks real HTTP to the real client, records every request (method, path, parameters, headers, body) and answers
like an Elasticsearch 8 server would for the calls the registry makes: indices and aliases, bulk writes with
external versions and ``require_alias``, documents by id, ``_count``, and searches in id order (``search_after``)
that ``ids()``, ``hashes()`` and exports use. Any other search gets the answer queued with :meth:`StandIn.answer`,
or no hits. It does not rank, filter or aggregate: the contract suite checks those against a real cluster.

Faults are queued with :meth:`StandIn.fail`: a status and an error body, a delay (for timeouts), or errors (429,
400) for some items of a bulk request. Like Elasticsearch 8, it refuses ``compatible-with=9`` with 400.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

JSON_TYPE = 'application/vnd.elasticsearch+json;compatible-with=8'


@dataclass
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: object = None

    @property
    def operations(self) -> list[dict]:
        """A bulk request's lines, parsed."""
        return self.body if isinstance(self.body, list) else []


@dataclass
class Fault:
    """A canned answer for the next matching request(s)."""

    method: str
    path: str
    status: int = 500
    body: dict | None = None
    delay: float = 0.0
    times: int = 1
    #: For bulk requests: answer these item positions with (status, error) and apply the rest.
    item_errors: dict[int, tuple[int, dict]] = field(default_factory=dict)


def error_body(status: int, kind: str, reason: str) -> dict:
    return {'error': {'root_cause': [{'type': kind, 'reason': reason}], 'type': kind, 'reason': reason},
            'status': status}


class StandIn:
    """The server and its state. Use as a context manager; ``url`` is where it listens."""

    def __init__(self, version: str = '8.15.3', tls: tuple[str, str] | None = None):
        self.version = version
        #: (certificate file, key file) to serve https instead of http.
        self.tls = tls
        self.requests: list[Recorded] = []
        #: index name -> {doc id -> (version, source)}
        self.indices: dict[str, dict[str, tuple[int, dict]]] = {}
        self.created: dict[str, dict] = {}
        self.aliases: dict[str, set[str]] = {}
        self._faults: list[Fault] = []
        self._answers: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------------------------------

    def __enter__(self) -> StandIn:
        handler = type('Handler', (_Handler,), {'standin': self})
        self._server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self._server.daemon_threads = True
        if self.tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        scheme = 'https' if self.tls else 'http'
        return f'{scheme}://127.0.0.1:{self._server.server_address[1]}'

    def fail(self, method: str, path: str, status: int = 500, body: dict | None = None, *, delay: float = 0.0,
             times: int = 1, item_errors: dict[int, tuple[int, dict]] | None = None) -> None:
        """Answer the next ``times`` requests matching ``method`` and ``path`` (a regular expression) this way:
        with ``status`` and ``body``, after ``delay`` seconds, or (bulk) with errors for some items only."""
        self._faults.append(Fault(method, path, status, body, delay, times, item_errors or {}))

    def answer(self, path: str, body: dict) -> None:
        """Answer the next search on ``path`` (a regular expression) with ``body``."""
        self._answers.append((path, body))

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or re.fullmatch(path, r.path))]

    def clear(self) -> None:
        self.requests.clear()

    def docs(self, name: str) -> dict[str, tuple[int, dict]]:
        """The documents of an index or alias."""
        return self.indices[self._resolve(name)]

    # -- behaviour -------------------------------------------------------------------------------------------

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _resolve(self, name: str) -> str:
        if name in self.indices:
            return name
        targets = self.aliases.get(name, set())
        if len(targets) != 1:
            raise KeyError(name)
        return next(iter(targets))

    def handle(self, request: Recorded) -> tuple[int, dict | None]:
        accept = request.headers.get('accept', '')
        if 'compatible-with=9' in accept.replace(' ', ''):
            return 400, error_body(400, 'media_type_header_exception',
                                   'Invalid media-type value on headers [Accept, Content-Type]')
        method, parts = request.method, [part for part in request.path.split('/') if part]
        with self._lock:
            if not parts:
                return 200, {'name': 'standin', 'cluster_name': 'standin', 'version': {
                    'number': self.version, 'build_flavor': 'default', 'lucene_version': '9.11.1',
                    'minimum_wire_compatibility_version': '7.17.0'}, 'tagline': 'You Know, for Search'}
            if parts == ['_aliases'] and method == 'POST':
                return self._update_aliases(request.body['actions'])
            if parts == ['_bulk']:
                return self._bulk(request)
            if parts[0] == '_alias' and len(parts) == 2:
                found = {index: {'aliases': {parts[1]: {}}} for index in sorted(self.aliases.get(parts[1], ()))}
                if not found:
                    return 404, {'error': f'alias [{parts[1]}] missing', 'status': 404}
                return 200, found
            if len(parts) == 2 and parts[1] == '_alias':
                names = [name for name in self.indices if fnmatch.fnmatchcase(name, parts[0])]
                return 200, {name: {'aliases': {alias: {} for alias, targets in self.aliases.items()
                                                if name in targets}} for name in sorted(names)}
            if len(parts) == 1 and method == 'PUT':
                if parts[0] in self.indices:
                    return 400, error_body(400, 'resource_already_exists_exception',
                                           f'index [{parts[0]}] already exists')
                self.indices[parts[0]] = {}
                self.created[parts[0]] = request.body
                return 200, {'acknowledged': True, 'shards_acknowledged': True, 'index': parts[0]}
            if len(parts) == 1 and method == 'DELETE':
                if parts[0] not in self.indices:
                    return 404, error_body(404, 'index_not_found_exception', f'no such index [{parts[0]}]')
                del self.indices[parts[0]]
                for targets in self.aliases.values():
                    targets.discard(parts[0])
                return 200, {'acknowledged': True}
            try:
                index = self._resolve(parts[0])
            except KeyError:
                return 404, error_body(404, 'index_not_found_exception', f'no such index [{parts[0]}]')
            docs = self.indices[index]
            if parts[1:2] == ['_refresh']:
                return 200, {'_shards': {'total': 1, 'successful': 1, 'failed': 0}}
            if parts[1:2] == ['_count']:
                return 200, {'count': len(docs), '_shards': {'total': 1, 'successful': 1, 'failed': 0}}
            if parts[1:2] == ['_doc'] and len(parts) == 3:
                if parts[2] not in docs:
                    return 404, {'_index': index, '_id': parts[2], 'found': False}
                version, source = docs[parts[2]]
                return 200, {'_index': index, '_id': parts[2], '_version': version, 'found': True, '_source': source}
            if parts[1:2] == ['_search']:
                return 200, self._search(request.path, request.body or {}, docs, index)
        return 400, error_body(400, 'illegal_argument_exception', f'stand-in has no {method} {request.path}')

    def _update_aliases(self, actions: list[dict]) -> tuple[int, dict]:
        staged = {alias: set(targets) for alias, targets in self.aliases.items()}
        for action in actions:
            (kind, spec), = action.items()
            if spec['index'] not in self.indices:
                return 404, error_body(404, 'index_not_found_exception', f"no such index [{spec['index']}]")
            if kind == 'add':
                staged.setdefault(spec['alias'], set()).add(spec['index'])
            elif kind == 'remove':
                staged.get(spec['alias'], set()).discard(spec['index'])
        self.aliases = {alias: targets for alias, targets in staged.items() if targets}
        return 200, {'acknowledged': True, 'errors': False}

    def _bulk(self, request: Recorded, item_errors: dict | None = None) -> tuple[int, dict]:
        lines, items, position = list(request.operations), [], 0
        while lines:
            action = lines.pop(0)
            (op, meta), = action.items()
            source = lines.pop(0) if op == 'index' else None
            result = {'_index': meta['_index'], '_id': meta['_id']}
            if position in (item_errors or {}):
                status, error = item_errors[position]
                result.update(status=status, error=error)
            else:
                result.update(self._apply(op, meta, source, request.params.get('require_alias') == 'true'))
            items.append({op: result})
            position += 1
        return 200, {'took': 1, 'errors': any('error' in next(iter(item.values())) for item in items),
                     'items': items}

    def _apply(self, op: str, meta: dict, source: dict | None, require_alias: bool) -> dict:
        name = meta['_index']
        if require_alias and name not in self.aliases:
            return {'status': 404, 'error': {'type': 'index_not_found_exception', 'reason': (
                f'no such index [{name}] and [require_alias] request flag is [true] and [{name}] is not an alias')}}
        try:
            index = self._resolve(name)
        except KeyError:
            return {'status': 404, 'error': {'type': 'index_not_found_exception', 'reason': f'no such index [{name}]'}}
        docs = self.indices[index]
        current = docs.get(meta['_id'], (0, None))[0]
        version = meta.get('version', current + 1)
        if meta.get('version_type') == 'external_gte' and version < current:
            return {'status': 409, 'error': {'type': 'version_conflict_engine_exception', 'reason': (
                f"[{meta['_id']}]: version conflict, current version [{current}] is higher than the one provided "
                f'[{version}]')}}
        if op == 'delete':
            if meta['_id'] not in docs:
                return {'status': 404, 'result': 'not_found'}
            del docs[meta['_id']]
            return {'status': 200, 'result': 'deleted', '_version': version}
        created = meta['_id'] not in docs
        docs[meta['_id']] = (version, source)
        return {'status': 201 if created else 200, 'result': 'created' if created else 'updated', '_version': version}

    def _search(self, path: str, body: dict, docs: dict, index: str) -> dict:
        for position, (pattern, answer) in enumerate(self._answers):
            if re.fullmatch(pattern, path):
                del self._answers[position]
                return answer
        if body.get('sort') != [{'id': 'asc'}]:
            return {'took': 1, 'timed_out': False, 'hits': {'total': {'value': 0, 'relation': 'eq'}, 'hits': []}}
        after = (body.get('search_after') or [0])[0]
        ordered = sorted((int(doc_id), doc_id) for doc_id in docs if int(doc_id) > after)
        chosen = ordered[body.get('from', 0):body.get('from', 0) + body.get('size', 10)]
        hits = []
        for number, doc_id in chosen:
            hit = {'_index': index, '_id': doc_id, '_score': None, 'sort': [number]}
            source = body.get('_source', True)
            if source is not False:
                excluded = source.get('excludes', []) if isinstance(source, dict) else []
                hit['_source'] = {key: value for key, value in docs[doc_id][1].items() if key not in excluded}
            hits.append(hit)
        return {'took': 1, 'timed_out': False, 'hits': {'hits': hits}}


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get('content-length') or 0)
        raw = self.rfile.read(length) if length else b''
        body = None
        if raw:
            text = raw.decode('utf-8')
            if 'ndjson' in (self.headers.get('content-type') or ''):
                body = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                body = json.loads(text)
        request = Recorded(self.command, url.path, dict(parse_qsl(url.query, keep_blank_values=True)),
                           {key.lower(): value for key, value in self.headers.items()}, body)
        standin = self.standin
        standin.requests.append(request)
        fault = standin._fault_for(self.command, url.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.item_errors:
            with standin._lock:
                status, answer = standin._bulk(request, fault.item_errors)
        elif fault is not None and not fault.delay:
            status, answer = fault.status, fault.body or error_body(fault.status, 'exception', 'stand-in fault')
        else:
            status, answer = standin.handle(request)
        payload = b'' if self.command == 'HEAD' or answer is None else json.dumps(answer).encode('utf-8')
        try:
            self.send_response(status)
            self.send_header('X-Elastic-Product', 'Elasticsearch')
            self.send_header('Content-Type', JSON_TYPE)
            self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(payload)
        except OSError:  # the client gave up (a timeout test)
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


#: Item errors as Elasticsearch words them.
BUSY = (429, {'type': 'es_rejected_execution_exception',
              'reason': 'rejected execution of coordinating operation [shard_indexing_pressure]'})
UNPARSABLE = (400, {'type': 'document_parsing_exception',
                    'reason': '[1:120] failed to parse field [age_min] of type [integer]',
                    'caused_by': {'type': 'number_format_exception', 'reason': 'For input string: "eight"'}})
