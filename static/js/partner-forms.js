// Partner forms: each scope's "Why your app needs ..." box shows only while its
// checkbox is ticked (the checkbox names its box with aria-controls). Without
// JavaScript every box shows, and the server asks for a reason only for ticked
// scopes. A box that holds text or an error stays visible even when unticked, so
// nothing the partner typed disappears from view.
(function () {
  "use strict";

  function sync(checkbox) {
    var box = document.getElementById(checkbox.getAttribute("aria-controls"));
    if (!box) { return; }
    var input = box.querySelector("input, textarea");
    var keep = box.querySelector(".error") || (input && input.value.trim() !== "");
    box.hidden = !checkbox.checked && !keep;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll(".scope-choices input[type=checkbox][aria-controls]");
    Array.prototype.forEach.call(boxes, function (checkbox) {
      sync(checkbox);
      // Focus stays on the checkbox: ticking several scopes in a row stays easy.
      checkbox.addEventListener("change", function () { sync(checkbox); });
    });
  });
})();
