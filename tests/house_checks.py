"""House checks every page must pass: questions on every fieldset, labels that point at a field, a title that
starts with the page's H1, and no HTML shown as text. Used by the Flask-client walk and the browser journeys."""

from __future__ import annotations

import re
from html.parser import HTMLParser

FIELD_TAGS = {'input', 'select', 'textarea', 'button'}
ESCAPED_HTML = ('&lt;a ', '&lt;br', '&lt;span', '&lt;strong', '&lt;p>', '&amp;lt;')


def _squash(text: str) -> str:
    return re.sub(r'\s+', ' ', text).strip()


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.first_with_id: dict[str, str] = {}   # id -> the tag of the first element carrying it
        self.duplicate_ids: set[str] = set()
        self.repeated: list[str] = []
        self.label_fors: list[str] = []
        self.fieldsets: list[dict] = []   # open and closed fieldsets, each {'legend': text or None}
        self._open_fieldsets: list[dict] = []
        self._capturing: dict[str, list[str]] = {}   # tag -> text so far, for the legend, title and first h1
        self.title = ''
        self.h1 = ''
        self._h1_count = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        names = [name for name, _value in attrs]
        for name in sorted({name for name in names if names.count(name) > 1}):
            self.repeated.append(f'<{tag}> has {name}= twice (browsers obey only the first)')
        # hidden inputs (each form's CSRF token) are never labelled or linked to, so their ids are not counted
        if attributes.get('id') and not (tag == 'input' and attributes.get('type') == 'hidden'):
            if attributes['id'] in self.first_with_id:
                self.duplicate_ids.add(attributes['id'])
            kind = tag if tag in FIELD_TAGS and attributes.get('type') != 'hidden' else ''
            self.first_with_id.setdefault(attributes['id'], kind)
        if tag == 'label' and attributes.get('for'):
            self.label_fors.append(attributes['for'])
        if tag == 'fieldset':
            fieldset = {'legend': None}
            self.fieldsets.append(fieldset)
            self._open_fieldsets.append(fieldset)
        if tag == 'legend' or tag == 'title' or (tag == 'h1' and not self._h1_count):
            self._capturing[tag] = []
            if tag == 'h1':
                self._h1_count += 1

    def handle_endtag(self, tag):
        if tag == 'fieldset' and self._open_fieldsets:
            self._open_fieldsets.pop()
        if tag in self._capturing:
            text = _squash(''.join(self._capturing.pop(tag)))
            if tag == 'legend' and self._open_fieldsets:
                self._open_fieldsets[-1]['legend'] = text
            elif tag == 'title' and not self.title:   # the document's, not an SVG's
                self.title = text
            elif tag == 'h1':
                self.h1 = text

    def handle_data(self, data):
        for buffer in self._capturing.values():
            buffer.append(data)


def problems(html: str) -> list[str]:
    """Every house-rule breach on one rendered page, as readable sentences (empty when the page is fine)."""
    page = _Page()
    page.feed(html)
    found = []
    for index, fieldset in enumerate(page.fieldsets, 1):
        if not fieldset['legend']:
            found.append(f'fieldset {index} has no legend text (a question nobody can hear)')
    for target in page.label_fors:
        if not page.first_with_id.get(target):
            found.append(f'label for="{target}" points at no field (clicking it selects nothing, or something else)')
    for duplicate in sorted(page.duplicate_ids):
        found.append(f'id="{duplicate}" is used more than once (a label or link may land on the wrong one)')
    found.extend(dict.fromkeys(page.repeated))
    title = re.sub(r'^Error: ', '', page.title)
    if page.h1 and not title.startswith(page.h1):
        found.append(f'title "{page.title}" does not start with the H1 "{page.h1}"')
    for marker in ESCAPED_HTML:
        if marker in html:
            at = html.index(marker)
            found.append(f'escaped HTML shown as text: …{html[max(0, at - 40):at + 40]}…')
    return found
