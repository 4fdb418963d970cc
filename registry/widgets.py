"""Every radio, checkbox and date group keeps its question as the legend.

govuk-frontend-wtf only fills the legend from the field's label when the template passes no ``fieldset`` at all;
a template that passes just the legend's classes (``{'legend': {'classes': 'govuk-fieldset__legend--m'}}``) gets a
fieldset with an empty legend, which a screen reader announces as a group with no question. ``install`` wraps the
three grouped widgets once so a legend without text or html takes the field's label.
"""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovDateInput, GovRadioInput

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


def install() -> None:
    """Make every grouped widget's legend default to its field's label (idempotent)."""
    for widget in (GovRadioInput, GovCheckboxesInput, GovDateInput):
        if not getattr(widget.map_gov_params, _INSTALLED, False):
            widget.map_gov_params = _with_legend_from_label(widget.map_gov_params)
