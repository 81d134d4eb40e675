/* 兜底通 offline pack: the assistant's own households, kept on the phone for work with no signal.
   Fetched when online (after signing in, then at most every few hours, or from 我的 → 更新离线资料) with an
   ETag, so an unchanged pack costs a 304. Holds no ID numbers and only a hash of each card's token. */
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
    return meta().then(function (info) {
      if (!force && info && Date.now() - info.fetched_at < STALE_MS && String(info.user) === String(store.user())) {
        say(describe(info));
        return info;
      }
      var headers = { Accept: "application/json" };
      if (info && info.etag && String(info.user) === String(store.user())) headers["If-None-Match"] = info.etag;
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
            truncated: pack.truncated
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
    byToken: byToken,
    head: head,
    sameNumber: sameNumber
  };
})();
