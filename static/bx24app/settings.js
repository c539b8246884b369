/* Settings page: section switching, live sync progress and problems (polling the JSON endpoint with the
   frame token in the X-Frame-Token header — no cookies involved). */
(function () {
  "use strict";
  var F = window.FRAME || {};
  var kindLabels = JSON.parse(document.getElementById("kind-labels").textContent || "{}");
  var T = JSON.parse(document.getElementById("js-texts").textContent || "{}");
  var fit = function () { if (window.bx24Fit) window.bx24Fit(); };
  var pollTimer = null;
  var currentRunId = null;
  var awaiting = null; // after «Синхронизировать сейчас»: wait for the new run to appear, then to finish

  document.querySelectorAll('#sections button[data-bs-toggle="pill"]').forEach(function (el) {
    el.addEventListener("shown.bs.tab", fit);
  });

  // keep the stage selects to the stages of the chosen pipeline
  var pipelineSelect = document.getElementById("id_category_id");
  var stageIdsEl = document.getElementById("pipeline-stage-ids");
  function filterStages() {
    if (!pipelineSelect || !stageIdsEl) return;
    var map = JSON.parse(stageIdsEl.textContent || "{}");
    var allowed = map[pipelineSelect.value] || [];
    document.querySelectorAll('#form-stages select[name^="stage_"]').forEach(function (sel) {
      sel.querySelectorAll("optgroup").forEach(function (group) {
        var any = false;
        group.querySelectorAll("option").forEach(function (opt) {
          var ok = allowed.indexOf(opt.value) >= 0; opt.hidden = !ok; opt.disabled = !ok; any = any || ok;
        });
        group.hidden = !any;
      });
      var current = sel.options[sel.selectedIndex];
      if (current && current.disabled) sel.value = "__create__";
    });
  }
  if (pipelineSelect) { pipelineSelect.addEventListener("change", filterStages); filterStages(); }

  function post(url) {
    return fetch(url, {method: "POST", headers: {"X-Frame-Token": F.token, "Accept": "application/json"},
      credentials: "omit"}).then(function (r) { return r.json().then(function (b) { b.httpStatus = r.status; return b; }); });
  }
  function get(url) {
    return fetch(url, {headers: {"X-Frame-Token": F.token, "Accept": "application/json"}, credentials: "omit"})
      .then(function (r) { return r.json(); });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function label(kind) { return kindLabels[kind] || kind; }
  function fmtDate(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

  function renderRun(run) {
    var box = document.getElementById("sync-progress");
    var state = document.getElementById("sync-state");
    if (!box) return;
    box.innerHTML = "";
    if (!run) { state.textContent = T.never || ""; return; }
    state.textContent = (run.running ? T.running : T.finished) + " — " + run.status_label +
      (run.duration_seconds !== null ? " (" + run.duration_seconds + " " + T.seconds + ")" : "") +
      ", " + T.rest + ": " + run.rest_requests;
    state.dataset.status = run.status;
    var kinds = Object.keys(run.progress || {});
    Object.keys(run.counts || {}).forEach(function (k) { if (kinds.indexOf(k) < 0) kinds.push(k); });
    kinds.forEach(function (kind) {
      var p = (run.progress || {})[kind] || {}, c = (run.counts || {})[kind] || {};
      var total = p.total || 0, done = p.done || 0;
      var pct = total ? Math.min(100, Math.round(done * 100 / total)) : (run.running ? 0 : 100);
      var row = el("div", {"class": "mb-2", "data-kind": kind});
      var head = el("div", {"class": "d-flex justify-content-between small"});
      head.appendChild(el("span", {}, label(kind)));
      var countText = [T.created + ": " + (c.created || 0), T.updated + ": " + (c.updated || 0),
        T.unchanged + ": " + (c.unchanged || 0)].join(" · ");
      head.appendChild(el("span", {"class": "text-secondary"}, done + " / " + total + " · " + countText));
      row.appendChild(head);
      var bar = el("div", {"class": "progress", "role": "progressbar", "aria-valuenow": String(pct),
        "aria-valuemin": "0", "aria-valuemax": "100"});
      var inner = el("div", {"class": "progress-bar" + (run.running ? " progress-bar-striped progress-bar-animated" : "")});
      inner.style.width = pct + "%";
      bar.appendChild(inner); row.appendChild(bar); box.appendChild(row);
    });
    var err = document.getElementById("sync-error");
    if (run.error) { err.textContent = run.error; err.classList.remove("d-none"); } else { err.classList.add("d-none"); }
    var btn = document.getElementById("sync-now");
    if (btn && F.canEdit) btn.disabled = !!run.running || !!awaiting;
  }

  var PROBLEMS_SHOWN = 20;
  var showAllProblems = false;
  var lastStatus = null;

  function renderRuns(runs) {
    var body = document.getElementById("runs-body");
    if (!body || !runs) return;
    body.innerHTML = "";
    if (!runs.length) {
      var empty = el("tr"); empty.appendChild(el("td", {"colspan": "5", "class": "text-secondary"}, T.never));
      body.appendChild(empty); return;
    }
    runs.forEach(function (run) {
      var tr = el("tr", {"data-run": String(run.id)});
      tr.appendChild(el("td", {}, fmtDate(run.started_at)));
      tr.appendChild(el("td", {}, run.duration_seconds !== null ? run.duration_seconds + " " + T.seconds : "—"));
      tr.appendChild(el("td", {}, run.status_label));
      var counts = el("td", {"class": "small"});
      var kinds = Object.keys(run.counts || {});
      if (!kinds.length) counts.textContent = "—";
      kinds.forEach(function (kind) {
        var c = run.counts[kind] || {};
        counts.appendChild(el("div", {}, label(kind) + ": " + (c.created || 0) + " / " + (c.updated || 0) + " / " +
          (c.unchanged || 0)));
      });
      tr.appendChild(counts);
      tr.appendChild(el("td", {}, String(run.rest_requests)));
      body.appendChild(tr);
    });
  }

  function renderProblems(problems, total) {
    var body = document.getElementById("problems-body");
    if (!body) return;
    body.innerHTML = "";
    var count = document.getElementById("problems-count");
    var more = document.getElementById("problems-more");
    total = total || problems.length;
    count.textContent = total ? String(total) : "";
    if (problems.length > PROBLEMS_SHOWN && !showAllProblems) {
      more.textContent = T.showAll + " (" + problems.length + ")";
      more.classList.remove("d-none");
      problems = problems.slice(0, PROBLEMS_SHOWN);
    } else {
      more.classList.add("d-none");
    }
    if (!problems.length) {
      var tr = el("tr"); tr.appendChild(el("td", {"colspan": "5", "class": "text-secondary"}, T.noProblems));
      body.appendChild(tr); return;
    }
    problems.forEach(function (p) {
      var tr = el("tr", {"data-problem": String(p.id)});
      tr.appendChild(el("td", {}, label(p.kind)));
      tr.appendChild(el("td", {}, p.label));
      tr.appendChild(el("td", {}, p.reason));
      tr.appendChild(el("td", {"class": "text-nowrap"}, fmtDate(p.first_seen)));
      var td = el("td", {"class": "text-nowrap"});
      if (p.retry_requested) {
        td.appendChild(el("span", {"class": "badge text-bg-info"}, T.retryQueued));
      } else if (F.canEdit) {
        var b = el("button", {"type": "button", "class": "btn btn-sm btn-outline-primary retry"}, T.retry);
        b.addEventListener("click", function () {
          b.disabled = true;
          post(F.retryUrl.replace("/0/", "/" + p.id + "/")).then(function () { poll(true); });
        });
        td.appendChild(b);
      }
      tr.appendChild(td); body.appendChild(tr);
    });
  }

  function showError(text) {
    var err = document.getElementById("sync-error");
    if (!err) return;
    err.textContent = text; err.classList.remove("d-none"); fit();
  }

  function render(status) {
    currentRunId = status.run ? status.run.id : null;
    if (awaiting && status.run && status.run.id !== awaiting.prev) awaiting = null;
    lastStatus = status;
    renderRun(status.run); renderRuns(status.runs); renderProblems(status.problems || [], status.problems_total); fit();
    return status.run && status.run.running;
  }

  function poll(once) {
    get(F.statusUrl).then(function (status) {
      if (status.ok === false) { showError(status.error); return; }  // e.g. the frame session expired
      var running = render(status) || (awaiting && Date.now() < awaiting.until);
      clearTimeout(pollTimer);
      if (running || !once) pollTimer = setTimeout(function () { poll(true); }, running ? 1000 : 5000);
    }).catch(function () { pollTimer = setTimeout(function () { poll(true); }, 5000); });
  }

  var moreBtn = document.getElementById("problems-more");
  if (moreBtn) moreBtn.addEventListener("click", function () {
    showAllProblems = true;
    if (lastStatus) renderProblems(lastStatus.problems || [], lastStatus.problems_total);
    fit();
  });

  var btn = document.getElementById("sync-now");
  if (btn) btn.addEventListener("click", function () {
    btn.disabled = true;
    awaiting = {prev: currentRunId, until: Date.now() + 120000};
    document.getElementById("sync-state").textContent = T.starting;
    post(F.syncNowUrl).then(function (res) {
      if (!res.ok) { awaiting = null; btn.disabled = false; showError(res.error); return; }
      if (res.already_running) awaiting = null;
      render(res);
      if (awaiting) document.getElementById("sync-state").textContent = T.starting;
      clearTimeout(pollTimer); pollTimer = setTimeout(function () { poll(true); }, 500);
    });
  });

  var initial = JSON.parse(document.getElementById("sync-status-data").textContent || "{}");
  if (render(initial)) { pollTimer = setTimeout(function () { poll(true); }, 1000); }
  window.addEventListener("load", fit);
})();
