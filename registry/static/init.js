import { initAll } from '/assets/govuk-frontend.min.js'
initAll()

// Filters wait behind a toggle on phones and tablets; from desktop width they sit open beside the results.
// Without JavaScript the toggle still works on every screen.
if (window.matchMedia('(min-width: 48.0625em)').matches) {
  for (const filters of document.querySelectorAll('details[data-registry-open-wide]')) {
    filters.open = true
    filters.classList.add('registry-filters--wide')
  }
}
