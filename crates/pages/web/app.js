// Rapport's own script: CSRF header for htmx, toasts, the search dialog
// (Ctrl+K or /), local times, confirmations, and the pipeline board's drag
// and drop. No inline scripts anywhere: the CSP allows only this file.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // Error answers (4xx/5xx) carry their message in HX-Trigger; swap nothing.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var item = document.createElement("div");
    item.className = "toast";
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 5000);
  }

  document.addEventListener("rapport-toast", function (event) {
    var detail = event.detail;
    toast(detail && typeof detail === "object" ? detail.value : detail);
  });

  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      el.textContent = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      el.title = el.getAttribute("datetime");
    });
    // A day, not an instant (a birthday): read in UTC so no time zone moves
    // it to the day before. "--04-15" has no year: the day and month only
    // (2000 stands in as a year that had a 29 February).
    root.querySelectorAll("time[data-local-date]").forEach(function (el) {
      var value = el.getAttribute("datetime");
      var yearless = value.indexOf("--") === 0;
      var day = new Date((yearless ? "2000" + value.slice(1) : value) + "T00:00:00Z");
      if (isNaN(day)) return;
      el.textContent = day.toLocaleDateString(undefined, yearless
        ? { month: "long", day: "numeric", timeZone: "UTC" }
        : { dateStyle: "long", timeZone: "UTC" });
    });
  }

  // Search dialog.
  function openSearch() {
    var dialog = document.getElementById("search-dialog");
    if (!dialog) {
      // The search page has its own box instead of the dialog.
      var box = document.querySelector('main input[type="search"]');
      if (box) { box.focus(); box.select(); }
      return;
    }
    if (dialog.open) return;
    dialog.showModal();
    var input = document.getElementById("search-input");
    if (input) { input.focus(); input.select(); }
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if ((event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      openSearch();
    } else if (event.key === "/" && !typing) {
      event.preventDefault();
      openSearch();
    }
    var dialog = document.getElementById("search-dialog");
    if (dialog && dialog.open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      var links = Array.prototype.slice.call(dialog.querySelectorAll("#search-results a"));
      if (!links.length) return;
      event.preventDefault();
      var at = links.indexOf(document.activeElement);
      var next = event.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0) { document.getElementById("search-input").focus(); return; }
      links[Math.min(next, links.length - 1)].focus();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
    var opener = event.target.closest("[data-open-search]");
    if (opener) { event.preventDefault(); openSearch(); }
    var dialog = document.getElementById("search-dialog");
    if (dialog && event.target === dialog) dialog.close();
  });

  // Forms that delete ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  // Tabs of the timeline composer: a radio group styled as tabs.
  document.addEventListener("change", function (event) {
    var choice = event.target.closest("[data-composer-kind]");
    if (!choice) return;
    var form = choice.closest("form");
    form.setAttribute("data-kind", choice.value);
  });

  // A "select all" box (shown only with JavaScript) ticks its form's row boxes.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var name = all.getAttribute("data-select-all");
    all.form.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  /* Board: drag a card onto another column (Won and Lost too) to move the deal, or open the
     board's one move dialog with a card's "Move" link (the keyboard's and screen readers' way;
     without this script the link opens a page with the form). The answer takes the card out of
     its column, puts it first in its new one and updates both headers' figures (out of band),
     so nothing else is redrawn. After a move through the dialog, focus goes to the moved card. */
  function moveDeal(card, values) {
    return htmx.ajax("POST", "/deals/" + card.dataset.deal + "/move", { source: card, swap: "none", values: values });
  }
  function initBoard(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-stage-cards]").forEach(function (list) {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "deals",
        animation: 150,
        forceFallback: true,
        fallbackTolerance: 3,
        draggable: ".deal-card",
        filter: "a.move",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) return;
          var card = event.item;
          moveDeal(card, {
            target: event.to.dataset.stageCards,
            from: event.from.dataset.stageCards,
            version: card.dataset.version,
          });
        },
      });
    });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".deal-card a.move");
    var dialog = document.getElementById("board-move");
    if (!link || !dialog) return;
    event.preventDefault();
    var card = link.closest(".deal-card");
    var list = card.closest("[data-stage-cards]");
    var form = dialog.querySelector("form");
    var from = list ? list.dataset.stageCards : "";
    dialog.dataset.deal = card.dataset.deal;
    form.elements.version.value = card.dataset.version;
    form.elements.from.value = from;
    form.elements.lost_reason.value = "";
    var first = null;
    Array.prototype.forEach.call(form.elements.target.options, function (option) {
      option.disabled = option.value === from;
      if (!option.disabled && !first) first = option;
    });
    form.elements.target.value = first ? first.value : "";
    dialog.querySelector("[data-move-name]").textContent = card.querySelector(".deal-name").textContent;
    dialog.showModal();
    form.elements.target.focus();
  });
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("#board-move [data-move-cancel]");
    if (cancel) cancel.closest("dialog").close();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("#board-move form");
    if (!form) return;
    event.preventDefault();
    var dialog = form.closest("dialog");
    var id = dialog.dataset.deal;
    var card = document.querySelector("#board .deal-card[data-deal='" + id + "']");
    if (!card) return;
    var values = {};
    new FormData(form).forEach(function (value, name) { values[name] = value; });
    dialog.close();
    // The swaps are done when the request's promise settles: focus the card where it now is.
    moveDeal(card, values).then(function () {
      var link = document.querySelector("#board .deal-card[data-deal='" + id + "'] .deal-name");
      if (link) link.focus();
    });
  });
  // The board fills the window below where it starts (the page head's height varies).
  function sizeBoard() {
    var board = document.getElementById("board");
    if (!board) return;
    var top = board.getBoundingClientRect().top + window.scrollY;
    board.style.setProperty("--board-top", Math.round(top) + "px");
  }
  window.addEventListener("resize", sizeBoard);
  /* End of Board */

  // Charts: a mark's <title> (its value) shown as a tooltip over it on hover
  // and on keyboard focus; without this script the browser's own title shows.
  var chartTip = null;
  function showChartTip(mark) {
    var title = mark.querySelector("title");
    if (!title) return;
    if (!chartTip) {
      chartTip = document.createElement("div");
      chartTip.className = "chart-tip";
      chartTip.setAttribute("role", "status");
      document.body.appendChild(chartTip);
    }
    chartTip.textContent = title.textContent;
    chartTip.hidden = false;
    var box = mark.getBoundingClientRect();
    var tip = chartTip.getBoundingClientRect();
    var room = document.documentElement.clientWidth;
    var left = Math.max(4, Math.min(box.left + box.width / 2 - tip.width / 2, room - tip.width - 4));
    var top = box.top - tip.height - 8;
    if (top < 4) top = box.bottom + 8;
    chartTip.style.left = Math.round(left + window.scrollX) + "px";
    chartTip.style.top = Math.round(top + window.scrollY) + "px";
  }
  function hideChartTip() {
    if (chartTip) chartTip.hidden = true;
  }
  ["mouseover", "focusin"].forEach(function (kind) {
    document.addEventListener(kind, function (event) {
      var mark = event.target.closest && event.target.closest(".chart-mark");
      if (mark) showChartTip(mark);
    });
  });
  ["mouseout", "focusout"].forEach(function (kind) {
    document.addEventListener(kind, function (event) {
      if (event.target.closest && event.target.closest(".chart-mark")) hideChartTip();
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hideChartTip();
  });

  // A table box that scrolls sideways (or down) can be scrolled from the
  // keyboard: it becomes a focusable region named after its section's
  // heading or its table's caption; one that fits is left out of the tab order.
  // (Boxes with a tabindex of their own in the markup are left alone.)
  function scrollBoxes(root) {
    root.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.hasAttribute("tabindex") && !box.hasAttribute("data-scroll-focus")) return;
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute("data-scroll-focus")) {
        box.setAttribute("data-scroll-focus", "");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var section = box.closest("section[aria-labelledby]");
        var caption = box.querySelector("caption");
        if (section) box.setAttribute("aria-labelledby", section.getAttribute("aria-labelledby"));
        else box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
      } else if (!scrolls && box.hasAttribute("data-scroll-focus")) {
        ["data-scroll-focus", "tabindex", "role", "aria-labelledby", "aria-label"].forEach(function (name) {
          box.removeAttribute(name);
        });
      }
    });
  }
  var scrollBoxesLater = null;
  window.addEventListener("resize", function () {
    clearTimeout(scrollBoxesLater);
    scrollBoxesLater = setTimeout(function () { scrollBoxes(document); }, 150);
  });

  // Lists' bulk bar: hidden until a row (or "all matching") is ticked, then
  // says how many; only the control the chosen action needs shows. Without
  // this script the bar is a plain form that always shows.
  function bulkForm(form) {
    var bar = form.querySelector("[data-bulk-bar]");
    if (!bar) return;
    var rows = form.querySelectorAll("input[name=ids]");
    var ticked = form.querySelectorAll("input[name=ids]:checked").length;
    var all = form.querySelector("[data-bulk-all]");
    var matching = all && all.checked;
    var text = matching ? "All " + all.getAttribute("data-total") + " selected" : ticked + " selected";
    bar.hidden = !(ticked || matching);
    form.querySelector("[data-bulk-count]").textContent = text;
    var status = form.querySelector("[data-bulk-status]");
    if (status) status.textContent = ticked || matching ? text : "";
    var page = form.querySelector("[data-select-all]");
    if (page) {
      page.checked = rows.length > 0 && ticked === rows.length;
      page.indeterminate = ticked > 0 && ticked < rows.length;
    }
    var action = form.querySelector("[data-bulk-action]");
    form.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      field.hidden = (" " + field.getAttribute("data-bulk-for") + " ").indexOf(" " + action.value + " ") < 0;
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-bulk]");
    if (!form) return;
    // Unticking a row leaves "all matching" for just the rows ticked.
    if (event.target.name === "ids" && !event.target.checked) {
      var all = form.querySelector("[data-bulk-all]");
      if (all) all.checked = false;
    }
    bulkForm(form);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-bulk]")) return;
    var action = form.querySelector("[data-bulk-action]");
    if (action && action.value === "delete") {
      var count = form.querySelector("[data-bulk-count]").textContent;
      if (!window.confirm("Move " + count.replace(" selected", "") + " to the trash? You can undo it.")) event.preventDefault();
    }
  }, true);

  // A refused bulk change comes back to the list with the ticked rows, the
  // chosen change and the message in the address's fragment ("#bulk:…"):
  // tick and fill them in again, say why in the bar, and tidy the address.
  function keepRefusedBulk(form) {
    if (location.hash.indexOf("#bulk:") !== 0) return;
    var kept = new URLSearchParams(location.hash.slice("#bulk:".length));
    var ids = kept.getAll("ids");
    form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = ids.indexOf(box.value) >= 0; });
    var all = form.querySelector("[data-bulk-all]");
    if (all) all.checked = kept.get("all") === "matching";
    ["action", "owner_id", "assignee_id", "tag", "stage", "lifecycle_stage"].forEach(function (name) {
      var field = form.querySelector("[name=" + name + "]");
      if (field && kept.has(name)) field.value = kept.get(name);
    });
    var problem = form.querySelector("[data-bulk-problem]");
    if (problem && kept.get("problem")) {
      problem.textContent = kept.get("problem");
      problem.hidden = false;
    }
    history.replaceState(history.state, "", location.pathname + location.search);
  }

  // Cells and profile facts edited in place (inline_edit.rs): a conflict
  // (409) shows in the field like a refusal (422); Esc cancels; after a save
  // or a cancel the focus goes back to the field's Edit button.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 409 && event.detail.target.closest && event.detail.target.closest(".inline-cell")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Enter") return;
    var form = event.target.closest && event.target.closest("[data-inline-edit]");
    if (!form) return;
    if (event.key === "Escape") {
      event.preventDefault();
      form.querySelector("[data-inline-cancel]").click();
    } else if (event.target.tagName === "SELECT") {
      // A drop-down has no implicit submission: Enter saves it like a text field.
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var button = document.querySelector("[data-inline-focus]");
    if (!button) return;
    button.removeAttribute("data-inline-focus");
    button.focus();
  });

  function init(root) {
    localTimes(root);
    initBoard(root);
    sizeBoard();
    scrollBoxes(root);
    root.querySelectorAll("[data-select-all][hidden]").forEach(function (box) { box.hidden = false; });
    root.querySelectorAll("form[data-bulk]").forEach(function (form) {
      keepRefusedBulk(form);
      bulkForm(form);
    });
    root.querySelectorAll(".toast:not([data-timed])").forEach(function (item) {
      item.setAttribute("data-timed", "");
      setTimeout(function () { item.remove(); }, 5000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
  // Phone navigation: below 760 px the sidebar's links fold into a menu.
  // The button stays hidden without this script, so every link shows then.
  function navigationMenu() {
    var button = document.querySelector(".menu-button");
    var sidebar = document.querySelector(".sidebar");
    if (!button || !sidebar) return;
    button.hidden = false;
    sidebar.classList.add("has-menu");
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      sidebar.classList.toggle("menu-open", open);
    }
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    sidebar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", navigationMenu);
  // A task section's count follows Complete and its Undo: the answer's
  // rapport-task-count event, fired on the clicked form, says by how much.
  document.addEventListener("rapport-task-count", function (event) {
    var section = event.target.closest ? event.target.closest("section") : null;
    var badge = section && section.querySelector("h2 .badge");
    var by = event.detail && typeof event.detail.value === "number" ? event.detail.value : 0;
    if (!badge || !by) return;
    var count = parseInt(badge.textContent, 10);
    if (!isNaN(count)) badge.textContent = String(Math.max(0, count + by));
  });
  /* Filter builder */
  // The list's "Add filter": only the operators and the value input that fit
  // the chosen field; Add writes the condition as a hidden `where` beside
  // the chips and asks the filter form (htmx) for the new results. Without
  // this script the builder's fields go with the plain GET form instead.
  function filterBuilder(builder) {
    if (builder.dataset.ready) return;
    builder.dataset.ready = "1";
    var form = builder.closest("form");
    var field = builder.querySelector("#where-field");
    var op = builder.querySelector("#where-op");
    var text = builder.querySelector("#where-value");
    var add = builder.querySelector(".add-condition");
    [field, op, text].forEach(function (input) { input.removeAttribute("name"); });
    // The filter form reloads on every change: not for a half-built condition.
    ["input", "change"].forEach(function (kind) {
      builder.addEventListener(kind, function (event) { event.stopPropagation(); });
    });
    function chosen() { return field.options[field.selectedIndex]; }
    function choices() {
      return builder.querySelector('.where-choices[data-field="' + field.value + '"]');
    }
    function showValue() {
      var option = chosen();
      var input = option ? option.dataset.input : "";
      var needsValue = op.value !== "empty" && op.value !== "set";
      var list = choices();
      builder.querySelectorAll(".where-choices").forEach(function (select) {
        var on = select === list && needsValue;
        select.hidden = !on;
        select.disabled = !on;
        select.multiple = on && op.value === "in";
      });
      text.hidden = !needsValue || !!list;
      text.disabled = text.hidden;
      text.type = op.value === "last" ? "number" : input === "date" ? "date" : input === "number" ? "number" : "text";
      text.step = input === "number" ? "any" : "1";
      text.min = op.value === "last" ? "1" : "";
      builder.querySelector(".where-value label").htmlFor = list && !list.hidden ? "" : "where-value";
      var hint = builder.querySelector("#where-hint");
      hint.hidden = !needsValue || !!list || input === "date";
      if (input === "boolean" && !list) text.placeholder = "true or false";
      else text.placeholder = "";
    }
    function showOperators() {
      var option = chosen();
      op.innerHTML = "";
      (option && option.dataset.ops ? option.dataset.ops.split(";") : []).forEach(function (pair) {
        var at = pair.indexOf("=");
        var item = document.createElement("option");
        item.value = pair.slice(0, at);
        item.textContent = pair.slice(at + 1);
        op.appendChild(item);
      });
      showValue();
    }
    field.addEventListener("change", showOperators);
    op.addEventListener("change", showValue);
    showOperators();
    add.addEventListener("click", function (event) {
      event.preventDefault();
      if (!field.value) { field.focus(); return; }
      var value = "";
      if (op.value !== "empty" && op.value !== "set") {
        var list = choices();
        if (list) {
          value = Array.prototype.filter.call(list.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; }).join("|");
        } else {
          value = text.value.trim();
        }
        if (!value) {
          text.setCustomValidity("Give a value");
          text.reportValidity();
          text.setCustomValidity("");
          return;
        }
      }
      var condition = document.createElement("input");
      condition.type = "hidden";
      condition.name = "where";
      condition.value = field.value + "." + op.value + (value ? "." + value : "");
      form.querySelector("#filter-chips").appendChild(condition);
      text.value = "";
      builder.open = false;
      builder.querySelector("summary").focus();
      htmx.trigger(form, "change");
    });
  }
  function filterBuilders() {
    document.querySelectorAll("details.filter-builder").forEach(filterBuilder);
  }
  document.addEventListener("DOMContentLoaded", filterBuilders);
  // A removed chip takes the focus with it: give it to "Add filter".
  var removedChip = false;
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".chip-remove")) removedChip = true;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!removedChip) return;
    removedChip = false;
    var summary = document.querySelector("details.filter-builder summary");
    if (summary) summary.focus();
  });
  /* End of Filter builder */
  /* Customer page */
  // "Load more" on a timeline: the focus goes to the first entry it added
  // (the button it replaced is gone), not back to the top of the page.
  document.addEventListener("htmx:afterSettle", function () {
    var first = document.querySelector("#timeline [data-focus-first]");
    if (!first) return;
    first.removeAttribute("data-focus-first");
    first.setAttribute("tabindex", "-1");
    first.focus();
  });
  /* End of Customer page */
})();
