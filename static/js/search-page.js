// The search page on small screens and with JavaScript: the filters start folded
// on phones (open in the HTML, so they work without this file), and the sort
// order applies as soon as it is chosen, its button then hidden.
(() => {
  "use strict";

  // The width below which the filters sit above the results (site.css).
  const NARROW = window.matchMedia("(max-width: 760px)");

  document.addEventListener("DOMContentLoaded", () => {
    const filters = document.querySelector(".search-filters-details");
    if (filters && NARROW.matches) filters.open = false;

    document.querySelectorAll("form[data-submit-on-change]").forEach((form) => {
      form.querySelectorAll("button[type=submit]").forEach((button) => { button.hidden = true; });
      form.querySelectorAll("select").forEach((select) => {
        select.addEventListener("change", () => form.requestSubmit());
      });
    });
  });
})();
