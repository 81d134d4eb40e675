/* 兜底通: pages that work with no signal. The service worker answers with a shell (no one's data in it) and
   this fills it from the phone's own pack (首页: the alert tasks, then who is due); on the household page online
   it shows what still waits to upload.
   Everything is built with textContent: nothing from the pack is ever read as HTML. No inline scripts (CSP). */
(function () {
  "use strict";
  var pack = window.DoudiPack;
  var outbox = window.DoudiOutbox;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function link(href, className, text) {
    var a = el("a", className, text);
    a.href = href;
    return a;
  }

  function labels() {
    return pack.meta().then(function (meta) { return meta || { villages: {}, labels: {} }; });
  }

  function label(meta, group, code) {
    return ((meta.labels || {})[group] || {})[code] || code;
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleDateString("zh-CN") : "从未走访";
  }

  function noPack(box) {
    box.textContent = "";
    box.appendChild(el("p", "empty", "手机上还没有离线资料：有信号时打开一次“住户”，资料会自动下载"));
  }

  // ---- one household as a row of the list ----

  function row(meta, household) {
    var head = pack.head(household);
    var a = link("/households/" + household.id, "hh-row");
    var top = el("div", "hh-row__top");
    top.appendChild(el("span", "hh-row__name", head ? head.name : "（未登记户主）"));
    top.appendChild(el("span", "hh-row__meta", (meta.villages[household.village] || "") + " · " + household.no + "号"));
    a.appendChild(top);
    a.appendChild(el("div", "hh-row__meta", (household.members || []).length + " 人 · 上次走访 " + when(household.last_visit_at)));
    var tags = el("div");
    (household.categories || []).forEach(function (c) { tags.appendChild(el("span", "tag", label(meta, "categories", c))); });
    a.appendChild(tags);
    return a;
  }

  function households(box) {
    var input = document.querySelector("[data-offline-search]");
    function draw() {
      return Promise.all([labels(), pack.search(input ? input.value : "")]).then(function (both) {
        var meta = both[0];
        var found = both[1];
        box.textContent = "";
        if (!meta.count) return noPack(box);
        if (!found.length) box.appendChild(el("p", "empty", "没有找到：可以输户号（如 12）或姓名"));
        found.slice(0, 200).forEach(function (h) { box.appendChild(row(meta, h)); });
        return null;
      });
    }
    if (input) input.addEventListener("input", draw);
    return draw();
  }

  // ---- 待核实预警 with no signal: the pack's tasks, as 首页 lists them online (alerts/_row.html) ----

  var GRADES = ["red", "orange", "yellow"];
  var TASKS_SHOWN = 50;

  // Today's date in China (no summer time there): the due days in the pack are China days.
  function chinaToday() { return new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10); }

  function daysLate(due) { return Math.round((Date.parse(chinaToday()) - Date.parse(due)) / 86400000); }

  // state: undefined (to check: opens the visit with the alert), "queued" (a visit checking it waits to upload:
  // no second check), "attention" (that visit was refused: opens 待上传的记录, where the server's words are)
  function taskRow(meta, task, household, state) {
    var grade = GRADES.indexOf(task.grade) >= 0 ? task.grade : "yellow";
    var href = state === "attention" ? "/outbox" : "/households/" + task.household_id + "/visits/new?alert=" + task.id;
    var row = state === "queued" ? el("div") : link(href);
    row.className = "alert-row alert-row--" + grade + (state ? " alert-row--done" : "");
    row.setAttribute("data-alert-task", String(task.id));
    var top = el("div", "hh-row__top");
    var what = el("span");
    what.appendChild(el("span", "tag tag--grade-" + grade, label(meta, "alert_grades", grade)));
    what.appendChild(document.createTextNode(" "));
    what.appendChild(el("strong", "", label(meta, "alert_rules", task.rule)));
    top.appendChild(what);
    var when = el("span", "hh-row__meta");
    if (state === "queued") when.appendChild(el("span", "tag tag--status-resolved", "已核实，待上传"));
    else if (state === "attention") when.appendChild(el("span", "tag tag--danger", "没有上传，需要处理"));
    else if (daysLate(task.due) > 0) when.appendChild(el("span", "stats-table__bad", "逾期 " + daysLate(task.due) + " 天"));
    else when.textContent = task.due.slice(5) + " 前核实";
    top.appendChild(when);
    row.appendChild(top);
    if (household) {
      var head = pack.head(household);
      var person = (household.members || []).filter(function (m) { return m.id === task.person_id; })[0];
      var who = el("div", "alert-row__who", (head ? head.name : "（未登记户主）") +
        (person && person !== head ? "（" + person.name + "）" : "") + " ");
      who.appendChild(el("span", "muted small", (meta.villages[household.village] || "") + " " + household.no + "号"));
      row.appendChild(who);
    }
    row.appendChild(el("p", "alert-row__reason", task.reason));
    return row;
  }

  function tasks(box, meta, all) {
    return pack.alerts().then(function (list) {
      if (!list.length) return null;
      return pack.onPhone(list).then(function (done) {
        var byId = {};
        all.forEach(function (h) { byId[h.id] = h; });
        var open = list.filter(function (t) { return !done[t.id]; });
        var settled = list.filter(function (t) { return done[t.id]; });
        var title = "待核实预警 · " + open.length + " 条" + (settled.length ? "（另有 " + settled.length + " 条已核实）" : "");
        box.appendChild(el("h2", "section-title", title));
        var rows = el("div", "alert-list");
        rows.setAttribute("data-offline-tasks", "");
        open.concat(settled).slice(0, TASKS_SHOWN).forEach(function (t) {
          rows.appendChild(taskRow(meta, t, byId[t.household_id], done[t.id]));
        });
        if (list.length > TASKS_SHOWN) {
          rows.appendChild(el("p", "muted small page-note", "还有 " + (list.length - TASKS_SHOWN) + " 条：有信号时在“预警”里看全部"));
        }
        box.appendChild(rows);
        return null;
      });
    });
  }

  // ---- 首页 with no signal: the alert tasks, then who is due, from the pack ----

  var homeDraws = 0;

  // Drawn into a detached node and swapped in at the end: the outbox may ask for a redraw while one is under way.
  function home(box) {
    var draw = ++homeDraws;
    var out = el("div");
    return labels().then(function (meta) {
      if (!meta.count) return noPack(box);
      return pack.search("").then(function (all) {
        return tasks(out, meta, all).then(function () {
          var before = out.children.length;
          ["overdue", "today", "week"].forEach(function (section) {
            var due = all.filter(function (h) { return h.due && h.due.section === section; });
            if (!due.length) return;
            out.appendChild(el("h2", "section-title", label(meta, "sections", section) + "（" + due.length + " 户）"));
            due.slice(0, 50).forEach(function (h) { out.appendChild(row(meta, h)); });
          });
          var survey = all.filter(function (h) { return h.survey_due; });
          if (survey.length) out.appendChild(el("p", "notice notice--info", "排查专项：还差 " + survey.length + " 户"));
          if (out.children.length === before) out.appendChild(el("p", "empty", "近期没有到期要走访的住户"));
          if (draw !== homeDraws) return null;  // a newer drawing is on its way
          box.textContent = "";
          while (out.firstChild) box.appendChild(out.firstChild);
          return null;
        });
      });
    });
  }

  // ---- a household's short page ----

  function household(box) {
    var id = (location.pathname.match(/^\/households\/(\d+)$/) || [])[1];
    return Promise.all([labels(), pack.household(id)]).then(function (both) {
      var meta = both[0];
      var h = both[1];
      box.textContent = "";
      if (!h) {
        box.appendChild(el("p", "empty", "手机上的离线资料里没有这户：有信号时再打开"));
        return null;
      }
      var head = pack.head(h);
      var village = meta.villages[h.village] || "";
      var title = document.querySelector(".topbar__title");
      if (title) title.textContent = village + " " + h.no + "号";
      var card = el("div", "card");
      card.appendChild(el("p", "card__title", head ? head.name : "（未登记户主）"));
      card.appendChild(el("p", "muted", village + " · " + h.no + "号" + (h.address ? " · " + h.address : "")));
      var tags = el("div");
      (h.categories || []).forEach(function (c) { tags.appendChild(el("span", "tag", label(meta, "categories", c))); });
      card.appendChild(tags);
      if (h.phone) card.appendChild(link("tel:" + h.phone, "", "联系电话 " + h.phone));
      if (h.assistant) card.appendChild(el("p", "muted small", "协理员 " + h.assistant.name));
      card.appendChild(el("p", "muted small", "上次走访 " + when(h.last_visit_at) +
        (h.due && h.due.date ? " · 下次应于 " + h.due.date + " 前" : "")));
      box.appendChild(card);
      var actions = el("div", "btn-area");
      actions.appendChild(link("/households/" + h.id + "/visits/new", "weui-btn weui-btn_primary", "开始走访"));
      box.appendChild(actions);
      box.appendChild(el("h2", "section-title", "家庭成员（" + (h.members || []).length + " 人）"));
      var members = el("div", "weui-cells");
      (h.members || []).forEach(function (m) {
        var cell = el("div", "weui-cell");
        var body = el("div", "weui-cell__bd");
        body.appendChild(el("span", "", m.name + " "));
        body.appendChild(el("span", "muted small", [m.relation, m.sex, m.age !== null && m.age !== undefined ? m.age + " 岁" : ""]
          .filter(Boolean).join(" · ")));
        cell.appendChild(body);
        members.appendChild(cell);
      });
      box.appendChild(members);
      if ((h.needs || []).length) {
        box.appendChild(el("h2", "section-title", "未解决的诉求"));
        var needs = el("ul", "visit-entry__needs");
        h.needs.forEach(function (n) {
          var li = el("li");
          li.appendChild(el("span", "tag", label(meta, "need_types", n.type)));
          li.appendChild(document.createTextNode(n.description));
          needs.appendChild(li);
        });
        box.appendChild(needs);
      }
      var relief = el("div", "btn-area");
      relief.appendChild(link("/relief/new?household=" + h.id, "weui-btn weui-btn_default", "申请临时救助（离线存草稿）"));
      box.appendChild(relief);
      return null;
    });
  }

  // ---- on a household's page: what was just saved, and what still waits to upload ----

  function pending(box) {
    var id = box.getAttribute("data-household") || (location.pathname.match(/^\/households\/(\d+)$/) || [])[1];
    var saved = new URLSearchParams(location.search).get("saved");
    return outbox.forHousehold(id).then(function (items) {
      box.textContent = "";
      if (saved) {
        var onPage = document.querySelector('[data-visit-uuid="' + saved + '"]');
        var waiting = items.some(function (i) { return i.uuid === saved; });
        var text = onPage || (!waiting && outbox.wasSent(saved)) ? "已保存" : "已存入待上传：有信号时自动上传，不会丢";
        box.appendChild(el("div", "notice notice--success", text));
      }
      items.forEach(function (item) {
        var entry = el("article", "visit-entry visit-entry--pending");
        entry.setAttribute("data-pending-uuid", item.uuid);
        var top = el("div", "visit-entry__head");
        top.appendChild(el("span", "visit-entry__kind", item.kind === "relief" ? "临时救助申请" : "走访"));
        top.appendChild(el("span", "tag tag--warn", "待上传"));
        entry.appendChild(top);
        entry.appendChild(el("p", "muted small", new Date(item.created_at).toLocaleString("zh-CN", { hour12: false }) +
          " · " + outbox.describe(item)));
        box.appendChild(entry);
      });
      return null;
    });
  }

  function start() {
    var jobs = [
      ["[data-offline-households]", households],
      ["[data-offline-home]", home],
      ["[data-offline-household]", household]
    ];
    jobs.forEach(function (job) {
      var box = document.querySelector(job[0]);
      if (box && pack) job[1](box).catch(function () { noPack(box); });
    });
    var homeBox = document.querySelector("[data-offline-home]");
    if (homeBox && pack) {  // a visit queued, sent or refused changes what the tasks say
      document.addEventListener("doudi:outbox", function () { home(homeBox).catch(function () { noPack(homeBox); }); });
    }
    var box = document.querySelector("[data-pending-visits]");
    if (box && outbox) {
      var draw = function () { pending(box).catch(function () {}); };
      draw();
      document.addEventListener("doudi:outbox", draw);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
