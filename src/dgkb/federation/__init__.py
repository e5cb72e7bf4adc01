"""Federation: call the permitted sources in parallel, each within its deadline, never failing the view."""
