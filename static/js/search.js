// Autocomplete for the header's search box, as an ARIA 1.2 combobox with a listbox
// popup: https://www.w3.org/WAI/ARIA/apg/patterns/combobox/
// Progressive enhancement only: without this file the box submits to /search.
(() => {
  "use strict";

  const DEBOUNCE_MS = 150;
  const MAX_LENGTH = 100; // the server trims to this too

  // The text as the server reads it (spaces collapsed, trimmed, cut), so an
  // answer can be matched with the text it was for.
  function normalise(text) {
    return text.trim().replace(/\s+/g, " ").slice(0, MAX_LENGTH).trim();
  }

  function enhance(input) {
    const form = input.form;
    const url = input.dataset.suggestUrl;
    if (!form || !url || !window.fetch) return;

    const listId = `${input.id}-listbox`;
    const wrapper = document.createElement("div");
    wrapper.className = "combobox";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);

    const list = document.createElement("ul");
    list.id = listId;
    list.className = "combobox-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested apps");
    list.hidden = true;
    wrapper.appendChild(list);

    // Tells screen reader users how many suggestions appeared.
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off"); // the browser's own list would cover ours

    let suggestions = [];
    let active = -1;
    let timer = null;
    let pending = null;

    function options() {
      return Array.from(list.querySelectorAll("[role=option]"));
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
      options().forEach((option) => option.setAttribute("aria-selected", "false"));
    }

    function open() {
      if (!suggestions.length) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function select(index) {
      const all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function go(index) {
      const suggestion = suggestions[index];
      if (suggestion) window.location.assign(suggestion.url);
    }

    function show(items) {
      suggestions = items;
      list.replaceChildren();
      close();
      items.forEach((item, index) => {
        const option = document.createElement("li");
        option.id = `${listId}-option-${index}`;
        option.className = "combobox-option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        // textContent, never innerHTML: names come from partners.
        const name = document.createElement("span");
        name.className = "combobox-name";
        name.textContent = item.name;
        const category = document.createElement("span");
        category.className = "combobox-category";
        category.textContent = item.category;
        option.append(name, " ", category);
        // Keep the focus in the box, so the list doesn't close before the click.
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => go(index));
        list.appendChild(option);
      });
      if (items.length) {
        open();
        status.textContent = `${items.length} suggestion${items.length === 1 ? "" : "s"}, use the arrow keys to choose`;
      } else {
        status.textContent = "";
      }
    }

    async function fetchSuggestions() {
      const query = normalise(input.value);
      if (pending) pending.abort();
      if (!query) {
        show([]);
        return;
      }
      pending = new AbortController();
      try {
        const response = await fetch(`${url}?q=${encodeURIComponent(query)}`, {
          headers: { Accept: "application/json" },
          signal: pending.signal,
        });
        if (!response.ok) {
          show([]);
          return;
        }
        const data = await response.json();
        // A slow answer for text the customer has since changed is dropped.
        if (data.query !== normalise(input.value)) return;
        show(Array.isArray(data.suggestions) ? data.suggestions : []);
      } catch (error) {
        if (error.name !== "AbortError") show([]);
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", (event) => {
      const expanded = !list.hidden;
      switch (event.key) {
        case "ArrowDown":
          if (!suggestions.length) return;
          event.preventDefault();
          if (!expanded) open();
          if (!event.altKey) select(active + 1);
          break;
        case "ArrowUp":
          if (!suggestions.length) return;
          event.preventDefault();
          if (!expanded) open();
          select(active - 1); // from nothing chosen, -1 wraps to the last
          break;
        case "Enter":
          // With an app chosen, open its page; otherwise the form searches as usual.
          if (expanded && active >= 0) {
            event.preventDefault();
            go(active);
          }
          break;
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            show([]);
          }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", close);
    input.addEventListener("focus", () => {
      if (suggestions.length && input.value.trim()) open();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[data-suggest-url]").forEach(enhance);
  });
})();
