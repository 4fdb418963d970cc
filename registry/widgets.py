"""Every radio, checkbox and date group keeps its question as the legend.

govuk-frontend-wtf only fills the legend from the field's label when the template passes no ``fieldset`` at all;
a template that passes just the legend's classes (``{'legend': {'classes': 'govuk-fieldset__legend--m'}}``) gets a
fieldset with an empty legend, which a screen reader announces as a group with no question. ``install`` wraps the
three grouped widgets once so a legend without text or html takes the field's label.

The password macro also writes ``autocomplete="current-password"`` unless told otherwise, so an
``autocomplete='new-password'`` passed the WTForms way came out as a second, ignored attribute: browsers offered a
saved password on the new-password fields. ``install`` turns that attribute into the macro's own parameter.
"""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovDateInput, GovPasswordInput, GovRadioInput

_INSTALLED = '_registry_legend_from_label'


def _with_legend_from_label(map_gov_params):
    def map_params(self, field, **kwargs):
        params = map_gov_params(self, field, **kwargs)
        legend = (params.get('fieldset') or {}).get('legend')
        if isinstance(legend, dict) and not legend.get('text') and not legend.get('html'):
            legend['text'] = field.label.text
        return params

    setattr(map_params, _INSTALLED, True)
    return map_params


def _with_autocomplete_param(map_gov_params):
    def map_params(self, field, **kwargs):
        params = map_gov_params(self, field, **kwargs)
        autocomplete = (params.get('attributes') or {}).pop('autocomplete', None)
        if autocomplete:
            params['autocomplete'] = autocomplete
        return params

    setattr(map_params, _INSTALLED, True)
    return map_params


def install() -> None:
    """Legends from labels, autocomplete as the password macro's parameter (idempotent)."""
    for widget in (GovRadioInput, GovCheckboxesInput, GovDateInput):
        if not getattr(widget.map_gov_params, _INSTALLED, False):
            widget.map_gov_params = _with_legend_from_label(widget.map_gov_params)
    if not getattr(GovPasswordInput.map_gov_params, _INSTALLED, False):
        GovPasswordInput.map_gov_params = _with_autocomplete_param(GovPasswordInput.map_gov_params)
