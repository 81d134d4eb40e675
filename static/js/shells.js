/* 兜底通: pages that work with no signal. The service worker answers with a shell (no one's data in it) and
   this fills it from the phone's own pack; on the household page online it shows what still waits to upload.
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

  // ---- 首页 with no signal: who is due, from the pack ----

  function home(box) {
    return labels().then(function (meta) {
      if (!meta.count) return noPack(box);
      return pack.search("").then(function (all) {
        box.textContent = "";
        ["overdue", "today", "week"].forEach(function (section) {
          var due = all.filter(function (h) { return h.due && h.due.section === section; });
          if (!due.length) return;
          box.appendChild(el("h2", "section-title", label(meta, "sections", section) + "（" + due.length + " 户）"));
          due.slice(0, 50).forEach(function (h) { box.appendChild(row(meta, h)); });
        });
        var survey = all.filter(function (h) { return h.survey_due; });
        if (survey.length) box.appendChild(el("p", "notice notice--info", "排查专项：还差 " + survey.length + " 户"));
        if (!box.children.length) box.appendChild(el("p", "empty", "近期没有到期要走访的住户"));
        return null;
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
    var box = document.querySelector("[data-pending-visits]");
    if (box && outbox) {
      var draw = function () { pending(box).catch(function () {}); };
      draw();
      document.addEventListener("doudi:outbox", draw);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
