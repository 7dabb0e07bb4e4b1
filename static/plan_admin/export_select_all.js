// The export page's "Select all" box (templates/admin/import_export/export.html), bound here rather than by an
// inline onchange attribute, which the Content-Security-Policy blocks. onSelectToggleChange is django-import-export's.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.select-toggle").forEach((toggle) => {
    toggle.addEventListener("change", (event) => window.onSelectToggleChange(event));
  });
});
