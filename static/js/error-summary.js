// After a failed post the page opens with an error summary (GOV.UK pattern,
// https://design-system.service.gov.uk/components/error-summary/): focus it so
// screen readers read it and the page starts there, and make its links focus
// the field itself (a plain #fragment only scrolls), with its label in view.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.querySelectorAll("a[href^='#']").forEach((link) => {
    link.addEventListener("click", (event) => {
      const field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      const label = document.querySelector(`label[for="${CSS.escape(field.id)}"]`);
      const legend = field.closest("fieldset")?.querySelector("legend");
      (legend || label || field).scrollIntoView();
      field.focus({ preventScroll: true });
    });
  });
});
