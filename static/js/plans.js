// Progressive enhancement for prices; without it every page still works.
document.addEventListener("DOMContentLoaded", () => {
  // The listing page: the install button says the price of the plan chosen.
  // (The phone bar's button belongs to the same form through its form attribute.)
  document.querySelectorAll("form[data-plan-form]").forEach((form) => {
    const buttons = document.querySelectorAll(
      `#${form.id} [data-plan-button], [form="${form.id}"][data-plan-button]`);
    form.querySelectorAll("input[name=plan][data-button]").forEach((radio) => {
      radio.addEventListener("change", () => {
        if (radio.checked) buttons.forEach((button) => { button.textContent = radio.dataset.button; });
      });
    });
  });
  // Phones: the install bar shows while the install form is scrolled up out of sight.
  const bar = document.querySelector("[data-install-bar]");
  const installForm = document.getElementById("install-form");
  if (bar && installForm && "IntersectionObserver" in window) {
    const phone = window.matchMedia("(max-width: 760px)");
    let formAbove = false;
    const update = () => {
      bar.hidden = !(phone.matches && formAbove);
      document.body.classList.toggle("has-install-bar", !bar.hidden);
    };
    new IntersectionObserver(([entry]) => {
      formAbove = !entry.isIntersecting && entry.boundingClientRect.top < 0;
      update();
    }).observe(installForm);
    phone.addEventListener("change", update);
  }
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
