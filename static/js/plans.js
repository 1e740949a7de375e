// Progressive enhancement for prices; without it every page still works.
document.addEventListener("DOMContentLoaded", () => {
  // The listing page: the install button says the price of the plan chosen.
  document.querySelectorAll("form[data-plan-form]").forEach((form) => {
    const button = form.querySelector("[data-plan-button]");
    form.querySelectorAll("input[name=plan][data-button]").forEach((radio) => {
      radio.addEventListener("change", () => {
        if (radio.checked && button) button.textContent = radio.dataset.button;
      });
    });
  });
  // The partner listing form: only the fields of the chosen pricing model show
  // (the server checks them either way). Fields say which models they belong to
  // with data-pricing="flat_monthly usage".
  document.querySelectorAll("select[data-pricing-model]").forEach((select) => {
    const form = select.form;
    const show = () => {
      form.querySelectorAll("[data-pricing]").forEach((element) => {
        element.hidden = !element.dataset.pricing.split(" ").includes(select.value);
      });
      form.querySelectorAll("[data-pricing-hint]").forEach((hint) => { hint.hidden = true; });
    };
    select.addEventListener("change", show);
    show();
  });
});
