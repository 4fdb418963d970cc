"""Jinja filters and globals shared by every page."""

from __future__ import annotations

import json
import re
from collections import ChainMap
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, render_template, request, session, url_for
from flask.templating import Environment
from flask_login import current_user
from markupsafe import Markup, escape

from registry.audit.labels import action_label

LONDON = ZoneInfo('Europe/London')
#: Links kept by :func:`url_for_kept` (endpoints and static files are finite; the bound is a safeguard).
URLS_KEPT = 1024


class _TemplateGlobals(ChainMap):
    """A template's globals over the environment's, as Jinja keeps them, but with ``keys()`` a set: Jinja subtracts
    it from the page's globals at every ``{% from ... import %}`` (ten on a page through the GOV.UK template), and a
    ChainMap's keys view tests each name against each map in Python."""

    def keys(self):
        return set().union(*self.maps)


class TemplateEnvironment(Environment):
    """Flask's Jinja environment, with template globals that are quicker to compare (:class:`_TemplateGlobals`)."""

    def make_globals(self, d):
        return _TemplateGlobals({} if d is None else d, self.globals)


def format_date(value: date | datetime | str | None) -> str:
    """GOV.UK style: 3 March 2026. Also takes a date saved as ISO text (``2026-03-03``, as in saved searches)."""
    if not value:  # None, '', or a saved search that holds no date (Jinja's Undefined)
        return ''
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(LONDON)
    return f'{value.day} {value:%B %Y}'


def format_datetime(value: datetime | None) -> str:
    """GOV.UK style: 3 March 2026 at 4:05pm (UK time)."""
    if value is None:
        return ''
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f'{format_date(local)} at {hour}:{local:%M}{"am" if local.hour < 12 else "pm"}'


def url_for_kept(endpoint: str, **values) -> str:
    """``url_for`` for the links every page repeats (an endpoint with no arguments, or a static file), kept per
    script root: such a link is the same string for every request under one root, and a page has about twenty
    (header, navigation, footer, scripts), each a routing build. Anything else goes to ``url_for`` as it is."""
    if endpoint.startswith('.') or (values and set(values) != {'filename'}) or not has_request_context():
        return url_for(endpoint, **values)
    kept = current_app.extensions.setdefault('registry.urls', {})
    key = (request.script_root, endpoint, values.get('filename'))
    url = kept.get(key)
    if url is None:
        if len(kept) >= URLS_KEPT:
            kept.clear()
        url = kept[key] = url_for(endpoint, **values)
    return url


def navigation() -> list[dict]:
    """Service navigation items for the signed-in user's role."""
    items = [{'href': url_for_kept('main.index'), 'text': 'Home'},
             {'href': url_for_kept('search.directory'), 'text': 'Find a provider'}]
    if current_user.is_authenticated:
        from registry.permissions import navigation_for
        items += navigation_for(current_user)
        items.append({'href': url_for_kept('accounts.account'), 'text': 'Your account'})
        items.append({'href': url_for_kept('accounts.sign_out'), 'text': 'Sign out'})
    else:
        items.append({'href': url_for_kept('accounts.sign_in'), 'text': 'Sign in'})
        items.append({'href': url_for_kept('accounts.register'), 'text': 'Create an account'})
    for item in items:
        item['active'] = request.path == item['href'] or (
            item['href'] != '/' and request.path.startswith(item['href']))
    return items


#: GOV.UK components whose output :func:`chrome` keeps, by macro name: the template each lives in.
CHROME = {
    'govukHeader': 'govuk_frontend_jinja/components/header/macro.html',
    'govukServiceNavigation': 'govuk_frontend_jinja/components/service-navigation/macro.html',
    'govukPhaseBanner': 'govuk_frontend_jinja/components/phase-banner/macro.html',
    'govukFooter': 'govuk_frontend_jinja/components/footer/macro.html',
    'govukSkipLink': 'govuk_frontend_jinja/components/skip-link/macro.html',
    'govukButton': 'govuk_frontend_jinja/components/button/macro.html',
    'govukPagination': 'govuk_frontend_jinja/components/pagination/macro.html',
}
CHROME_KEPT = 512


def chrome(macro: str, params: dict) -> Markup:
    """A GOV.UK page-chrome component (header, navigation, phase banner, footer, a plain button) rendered once for
    each distinct ``params`` and kept: a component is a pure function of its parameters, and rendering the chrome
    on every page cost more than the rest of a directory page. The navigation's parameters differ by user role
    and current page, so each combination is rendered once; a handful per configuration."""
    app = current_app._get_current_object()
    kept = app.extensions.setdefault('chrome', {})
    key = (macro, json.dumps(params, sort_keys=True, default=str))
    html = kept.get(key)
    if html is None:
        template = app.jinja_env.from_string(
            f'{{% from "{CHROME[macro]}" import {macro} %}}{{{{ {macro}(params) }}}}')
        html = Markup(template.render(params=params))
        if len(kept) >= CHROME_KEPT:
            kept.clear()
        kept[key] = html
    return html


def chrome_with_slots(macro: str, params: dict, slots: dict[str, str]) -> Markup:
    """:func:`chrome` for a component whose shape repeats while some strings in it differ (a pagination's links
    and page numbers): ``params`` holds a placeholder (``@@0@@``, ``@@1@@``...) where each such string goes, so
    the component is rendered once per shape; the placeholders are then replaced by the strings, escaped as the
    component would have escaped them."""
    html = str(chrome(macro, params))
    for placeholder, value in slots.items():
        html = html.replace(placeholder, str(escape(value)))
    return Markup(html)


#: Where a framed page's title, main content and CSP nonce go in its kept frame.
FRAME_TITLE, FRAME_MAIN, FRAME_NONCE = '@@frame-title@@', '@@frame-main@@', '@@frame-nonce@@'
_FRAME_SLOTS = re.compile(f'({FRAME_TITLE}|{FRAME_MAIN}|{FRAME_NONCE})')
FRAMES_KEPT = 256


def render_framed(frame: str, content: str, *, title: str, **context) -> str:
    """A page whose frame (the GOV.UK template: head, header, navigation, footer) is rendered once per
    navigation and kept, with its title, the ``content`` template rendered with ``context``, and this request's
    CSP nonce put in: the frame cost more than a directory page's own content.

    ``frame`` extends ``base.html`` and places ``page_title`` and ``main_content``; nothing else in it may depend
    on the request but the navigation (which follows the user's role and the current page). A request with
    flashed messages (which the frame shows) is rendered whole.
    """
    if session.get('_flashes'):
        return render_template(frame, page_title=title, main_content=Markup(render_template(content, **context)))
    app = current_app._get_current_object()
    kept = app.extensions.setdefault('registry.frames', {})
    key = (frame, request.script_root, json.dumps(navigation(), sort_keys=True, default=str))
    parts = kept.get(key)
    if parts is None:
        if len(kept) >= FRAMES_KEPT:
            kept.clear()
        html = render_template(frame, page_title=FRAME_TITLE, main_content=Markup(FRAME_MAIN),
                               csp_nonce=lambda: FRAME_NONCE)
        parts = kept[key] = tuple(_FRAME_SLOTS.split(html))
    filled = {FRAME_TITLE: str(escape(title)), FRAME_MAIN: render_template(content, **context),
              FRAME_NONCE: str(escape(getattr(g, 'csp_nonce', '')))}
    return ''.join(filled.get(part, part) for part in parts)


def place_name(*parts: str | None) -> str:
    """Place names joined once each: district "Leeds" in authority "Leeds" reads "Leeds", not "Leeds, Leeds"."""
    shown: list[str] = []
    for part in parts:
        if part and part.strip() and part.strip().casefold() not in {seen.casefold() for seen in shown}:
            shown.append(part.strip())
    return ', '.join(shown)


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(format_date, 'date')
    app.jinja_env.globals['place_name'] = place_name
    app.add_template_filter(action_label, 'action_label')
    app.add_template_filter(format_datetime, 'datetime')
    app.jinja_env.globals['navigation'] = navigation
    app.jinja_env.globals['url_for'] = url_for_kept
    app.jinja_env.globals['chrome'] = chrome
    app.jinja_env.globals['csp_nonce'] = lambda: getattr(g, 'csp_nonce', '')
