/* 兜底通 offline pack: the assistant's own households, kept on the phone for work with no signal.
   Fetched when online (after signing in, then at most every few hours, or from 我的 → 更新离线资料) with an
   ETag, so an unchanged pack costs a 304. Holds no ID numbers and only a hash of each card's token.
   It also holds the assistant's 待核实预警 (alert tasks: rule, grade, reason, due day, household), kept with the
   pack's meta; a visit that checks one drops it here as soon as the server has it, and the next page refetches. */
(function () {
  "use strict";
  var store = window.DoudiStore;
  if (!store) return;
  var URL_PACK = "/api/v1/offline-pack";
  var STALE_MS = 3 * 3600 * 1000;  // at most every three hours

  function wanted() {
    var meta = document.querySelector('meta[name="doudi-offline"]');
    return Boolean(meta && meta.content === "1" && store.available());
  }

  function meta() { return store.get("meta", "pack").catch(function () { return null; }); }

  function say(text) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-pack-status]"), function (el) { el.textContent = text; });
  }

  function describe(info) {
    if (!info) return "还没有离线资料：有信号时会自动下载";
    var when = new Date(info.fetched_at).toLocaleString("zh-CN", { hour12: false });
    return "离线资料：" + info.count + " 户，" + when + " 更新";
  }

  function refresh(force) {
    if (!wanted() || !navigator.onLine) return meta().then(function (info) { say(describe(info)); return info; });
    return Promise.all([meta(), settled()]).then(function (both) {
      var info = both[0];
      var own = info && String(info.user) === String(store.user());
      var stale = own && both[1].at >= info.fetched_at;  // an upload settled tasks since this copy came
      if (!force && own && !stale && Date.now() - info.fetched_at < STALE_MS) {
        say(describe(info));
        return info;
      }
      var headers = { Accept: "application/json" };
      if (own && info.etag) headers["If-None-Match"] = info.etag;
      say("正在更新离线资料…");
      return fetch(URL_PACK, { credentials: "same-origin", headers: headers }).then(function (response) {
        if (response.status === 304) {
          info.fetched_at = Date.now();
          return store.put("meta", info, "pack").then(function () { return info; });
        }
        if (response.status !== 200) throw new Error("pack " + response.status);
        return response.json().then(function (pack) {
          if (String(pack.user_id) !== String(store.user())) throw new Error("another account's pack");
          var fresh = {
            etag: response.headers.get("ETag"),
            fetched_at: Date.now(),
            user: store.user(),
            count: pack.households.length,
            villages: pack.villages,
            labels: pack.labels,
            truncated: pack.truncated,
            alerts: pack.alerts || []
          };
          return store.replacePack(pack.households, fresh).then(function () { return fresh; });
        });
      }).then(function (fresh) {
        say(describe(fresh));
        return fresh;
      }, function (error) {
        say(store.isFull(error) ? store.FULL_MESSAGE : "离线资料没有更新（网络不通或没有权限），用的是上次的");
        return info;
      });
    });
  }

  // ---- 待核实预警: the pack's alert tasks, and what the phone has already done about each ----

  var SETTLED_DAYS = 7;  // long enough for any pack fetched before the upload to have been replaced

  // {ids: {alert id: when sent}, at: the last time}: tasks this phone's uploads settled. Kept apart from the pack,
  // so a download racing the upload (its answer made just before the visit landed) cannot bring them back.
  function settled() {
    return store.get("meta", "settled").then(function (kept) { return kept || { ids: {}, at: 0 }; })
      .catch(function () { return { ids: {}, at: 0 }; });
  }

  function alerts() {
    return Promise.all([meta(), settled()]).then(function (both) {
      var done = both[1].ids;
      return ((both[0] && both[0].alerts) || []).filter(function (task) { return !done[task.id]; });
    });
  }

  // Does this visit (an outbox item, or the detail of one just sent) settle the task? It does when it names the
  // alert, and when the task is one any visit to its household closes (走访逾期, 独居无人联系, 紧急未跟进).
  function settles(visit, task) {
    return Number(visit.alert_id) === task.id ||
      (task.any_visit_closes && String(visit.household_id) === String(task.household_id));
  }

  // {alert id: "queued" | "attention"}: a visit waiting in the outbox settles the task, or the server refused it.
  function onPhone(tasks) {
    var outbox = window.DoudiOutbox;
    if (!outbox) return Promise.resolve({});
    return outbox.items().then(function (items) {
      var found = {};
      items.forEach(function (item) {
        if (item.kind !== "visit") return;
        var visit = { alert_id: (item.payload || {}).alert_id, household_id: item.household_id };
        tasks.forEach(function (task) {
          if (settles(visit, task) && found[task.id] !== "queued") {
            found[task.id] = item.state === "attention" ? "attention" : "queued";
          }
        });
      });
      return found;
    }).catch(function () { return {}; });
  }

  // The server has the visit: its tasks are done. Hide them now (the signal may go before the next download),
  // and have the next page online fetch the server's list whatever the pack's age.
  document.addEventListener("doudi:sent", function (event) {
    var sent = event.detail || {};
    if (sent.kind !== "visit" || !store.available()) return;
    Promise.all([meta(), settled()]).then(function (both) {
      var done = both[1];
      var ids = ((both[0] && both[0].alerts) || []).filter(function (task) { return settles(sent, task); });
      if (!ids.length) return null;
      var now = Date.now();
      ids.forEach(function (task) { done.ids[task.id] = now; });
      Object.keys(done.ids).forEach(function (id) {
        if (now - done.ids[id] > SETTLED_DAYS * 86400000) delete done.ids[id];
      });
      done.at = now;
      return store.put("meta", done, "settled");
    }).catch(function () { /* the next download puts it right */ });
  });

  // Household numbers are typed with or without their zeros: 12 finds 0012.
  function sameNumber(a, b) { return String(a).replace(/^0+/, "") === String(b).replace(/^0+/, ""); }

  function head(household) {
    return (household.members || []).filter(function (m) { return m.head; })[0] || null;
  }

  function search(text) {
    var q = String(text || "").trim();
    return store.all("pack").then(function (households) {
      var found = households.filter(function (h) {
        if (!q) return true;
        if (/^\d+$/.test(q) && sameNumber(h.no, q)) return true;
        return (h.members || []).some(function (m) { return m.name.indexOf(q) >= 0; }) || (h.phone || "") === q;
      });
      return found.sort(function (a, b) { return a.village.localeCompare(b.village) || a.no.localeCompare(b.no); });
    });
  }

  // The card's token never sits on the phone: its SHA-256 does, and a scanned token is hashed to match it.
  function byToken(token) {
    if (!window.crypto || !crypto.subtle) return Promise.resolve(null);
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)).then(function (digest) {
      var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      return store.byIndex("pack", "card", hex).then(function (found) { return found[0] || null; });
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-pack-refresh]")) refresh(true);
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (wanted()) refresh(false);
    else meta().then(function (info) { if (document.querySelector("[data-pack-status]")) say(describe(info)); });
  });

  window.DoudiPack = {
    refresh: refresh,
    meta: meta,
    household: function (id) { return store.get("pack", Number(id)); },
    search: search,
    alerts: alerts,
    onPhone: onPhone,
    byToken: byToken,
    head: head,
    sameNumber: sameNumber
  };
})();
