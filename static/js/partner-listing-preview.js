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

  // The listing's other plans (listings/listing_preview.py): with any, the card says
  // "From" the cheapest, a monthly one first, as listings.plans.card_plan picks it.
  function cheapest(typed, interval, others, key) {
    var plans = [{ amount: Number(typed), interval: interval }].concat(
      others.map(function (plan) { return { amount: Number(plan[key]), interval: plan.interval }; })
        .filter(function (plan) { return plan.amount > 0; }));
    var monthly = plans.filter(function (plan) { return plan.interval === "month"; });
    return (monthly.length ? monthly : plans).reduce(function (best, plan) {
      return plan.amount < best.amount ? plan : best;
    });
  }

  function price(preview) {
    var model = value("pricing_model") || "free";
    var currency = value("currency") || "usd";
    var others = JSON.parse(preview.getAttribute("data-other-plans") || "[]");
    var first = preview.getAttribute("data-first-interval") || "month";
    var flat = model === "flat_monthly";
    if (!flat && model !== "usage") { return "Free"; }
    var typed = value(flat ? "monthly_price" : "unit_price");
    var per = flat ? " / " + first : " per " + (value("unit_name") || "unit");
    var offered = others.filter(function (plan) {
      return Number(plan[flat ? "amount" : "unit_amount"]) > 0;
    });
    if (!offered.length || typed === "" || !isFinite(Number(typed))) {
      return amount(typed, currency) + per;
    }
    var shown = cheapest(typed, flat ? first : "month", offered, flat ? "amount" : "unit_amount");
    return "From " + amount(String(shown.amount), currency) +
      (flat ? " / " + shown.interval : per);
  }

  function update(preview) {
    var category = document.getElementById("category_id");
    var texts = {
      name: value("name") || "Your app's name",
      tagline: value("tagline") || "Your tagline, in one sentence.",
      category: category && category.selectedIndex >= 0
        ? category.options[category.selectedIndex].text : "",
      price: price(preview)
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

  // Whether anything was typed or chosen before this script ran (a slow page): the
  // server's preview shows the form as it was sent.
  function edited(form) {
    return Array.prototype.some.call(form.elements, function (field) {
      if (field.options) {
        return Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      if (field.type === "checkbox" || field.type === "radio") {
        return field.checked !== field.defaultChecked;
      }
      return "defaultValue" in field && field.value !== field.defaultValue;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var preview = document.querySelector("[data-listing-preview]");
    var form = document.getElementById("name") && document.getElementById("name").form;
    if (!preview || !form) { return; }
    form.addEventListener("input", function () { update(preview); });
    form.addEventListener("change", function () { update(preview); });
    if (edited(form)) { update(preview); }
  });
})();
