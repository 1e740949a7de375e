// Search-as-you-type for adding apps to an editors' collection.
// Progressive enhancement only: without this file the "Find a published app"
// form submits to the collection page, which lists the same results with the
// same "Add" buttons (plain POST forms with the CSRF token).
(() => {
  "use strict";

  const DEBOUNCE_MS = 200;
  const MIN_LENGTH = 2;

  function enhance(section) {
    const searchUrl = section.dataset.searchUrl;
    const addUrl = section.dataset.addUrl;
    const input = section.querySelector("input[type=search]");
    const results = section.querySelector("#picker-results");
    const token = document.querySelector("input[name=csrf_token]");
    if (!searchUrl || !addUrl || !input || !results || !window.fetch) return;

    let timer = null;
    let latest = 0;

    function message(text) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = text;
      results.replaceChildren(p);
    }

    function addForm(app) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = `${addUrl}?q=${encodeURIComponent(input.value.trim())}`;
      form.className = "inline-form";
      if (token) {
        const csrf = document.createElement("input");
        csrf.type = "hidden";
        csrf.name = "csrf_token";
        csrf.value = token.value;
        form.appendChild(csrf);
      }
      const id = document.createElement("input");
      id.type = "hidden";
      id.name = "listing_id";
      id.value = String(app.id);
      form.appendChild(id);
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "button button-small";
      button.textContent = "Add";
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = ` ${app.name}`;
      button.appendChild(hidden);
      form.appendChild(button);
      return form;
    }

    function show(apps, text) {
      if (!apps.length) {
        message(`No published app matches “${text}”.`);
        return;
      }
      const list = document.createElement("ul");
      list.className = "console-list picker-results";
      for (const app of apps) {
        const item = document.createElement("li");
        const name = document.createElement("strong");
        name.textContent = app.name;
        const about = document.createElement("span");
        about.className = "muted";
        about.textContent = ` by ${app.partner} — ${app.tagline} `;
        item.append(name, " ", about);
        if (app.added) {
          const added = document.createElement("span");
          added.className = "muted";
          added.textContent = "(already in this collection)";
          item.appendChild(added);
        } else {
          item.appendChild(addForm(app));
        }
        list.appendChild(item);
      }
      results.replaceChildren(list);
    }

    async function search() {
      const text = input.value.trim();
      const ticket = ++latest;
      if (text.length < MIN_LENGTH) {
        results.replaceChildren();
        return;
      }
      try {
        const response = await fetch(`${searchUrl}?q=${encodeURIComponent(text)}`,
                                     { headers: { Accept: "application/json" },
                                       credentials: "same-origin" });
        if (!response.ok) throw new Error(String(response.status));
        const data = await response.json();
        if (ticket === latest) show(data.results || [], text);
      } catch (_error) {
        if (ticket === latest) message("Search is not answering; press Search to try again.");
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
  }

  document.querySelectorAll("[data-collection-picker]").forEach(enhance);
})();
