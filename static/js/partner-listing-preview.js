// The listing form's preview (templates/listings/partner/_listing_preview.html): the
// card and page header follow what the partner types. The server fills the preview
// on load and on the "Preview" button, so without JavaScript nothing is lost.
(function () {
  "use strict";

  function value(id) {
    var field = document.getElementById(id);
    return field ? field.value.trim() : "";
  }

  function amount(text, currency) {
    var number = Number(text);
    if (text === "" || !isFinite(number)) { return text || "?"; }
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined,
                                   { style: "currency", currency: currency.toUpperCase() })
        .format(number);
    } catch (error) {
      return text + " " + currency.toUpperCase();  // not an ISO 4217 code (yet)
    }
  }

  function price() {
    var model = value("pricing_model") || "free";
    var currency = value("currency") || "usd";
    if (model === "flat_monthly") { return amount(value("monthly_price"), currency) + " / month"; }
    if (model === "usage") {
      return amount(value("unit_price"), currency) + " per " + (value("unit_name") || "unit");
    }
    return "Free";
  }

  function update(preview) {
    var category = document.getElementById("category_id");
    var texts = {
      name: value("name") || "Your app's name",
      tagline: value("tagline") || "Your tagline, in one sentence.",
      category: category && category.selectedIndex >= 0
        ? category.options[category.selectedIndex].text : "",
      price: price()
    };
    Object.keys(texts).forEach(function (key) {
      preview.querySelectorAll('[data-preview="' + key + '"]').forEach(function (element) {
        element.textContent = texts[key];
      });
    });
    var trial = preview.querySelector('[data-preview="trial"]');
    var days = parseInt(value("trial_days"), 10);
    if (trial) {
      trial.hidden = !(days > 0) || value("pricing_model") === "free";
      trial.textContent = days + "-day free trial";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var preview = document.querySelector("[data-listing-preview]");
    var form = document.getElementById("name") && document.getElementById("name").form;
    if (!preview || !form) { return; }
    form.addEventListener("input", function () { update(preview); });
    form.addEventListener("change", function () { update(preview); });
  });
})();
