/* 兜底通 outbox: what the assistant typed waits on the phone until the server has confirmed it.
   Written to IndexedDB before any network call; sent one item at a time (the record, then each photo);
   deleted only after a 201 (or a 200 for a replay: the UUID makes a retry land once). A refusal stays on the
   phone as 需要处理 with the server's words; a lost signal waits and tries again (capped at 5 minutes). */
(function () {
  "use strict";
  var store = window.DoudiStore;
  if (!store) return;

  var API = { visit: "/api/v1/visits", relief: "/api/v1/relief", candidate: "/api/v1/candidates" };
  var PHOTOS = { visit: "/api/v1/visits/", relief: "/api/v1/relief/", candidate: "/api/v1/candidates/" };
  var TITLES = { visit: "走访 · ", relief: "临时救助申请 · ", candidate: "上报疑似困难户 · " };
  var RECORD_TIMEOUT_MS = 60000;
  var PHOTO_TIMEOUT_MS = 180000;  // 300 KB over a weak 2G link
  var FIRST_RETRY_MS = 5000;
  var MAX_RETRY_MS = 300000;      // 5 minutes
  var SENT_KEY = "doudi-sent";    // localStorage: uuids the server confirmed lately (the next page says 已保存)
  var STATES = { waiting: "等待网络", sending: "正在上传", attention: "需要处理", login: "等待重新登录" };
  var channel = window.BroadcastChannel ? new BroadcastChannel("doudi-outbox") : null;
  var running = null;
  var timer = null;
  var needsLogin = false;

  // ---- talking to the server ----

  function request(url, options, timeoutMs) {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller && setTimeout(function () { controller.abort(); }, timeoutMs);
    options.credentials = "same-origin";
    options.signal = controller ? controller.signal : undefined;
    return fetch(url, options).then(function (response) {
      clearTimeout(timeout);
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }, function () {
      clearTimeout(timeout);
      return { status: 0, body: {} };  // no signal, or the answer was lost: try again later, it lands once
    });
  }

  // A fresh CSRF token, and who the server thinks is signed in: a page opened offline may hold neither.
  function freshSession() {
    return request("/api/v1/me", { headers: { Accept: "application/json" } }, RECORD_TIMEOUT_MS).then(function (r) {
      if (r.status === 401 || (r.status === 403 && r.body.error === "password_change_required")) return { login: true };
      if (r.status !== 200) return null;
      var meta = document.querySelector('meta[name="csrf-token"]');
      var token = r.body.csrf_token || (meta && meta.content);
      var user = store.user();
      if (r.body.id !== undefined && user && String(r.body.id) !== String(user)) return { other: true };
      return { token: token };
    });
  }

  function postRecord(item, token) {
    return request(API[item.kind], {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify(item.payload)
    }, RECORD_TIMEOUT_MS);
  }

  function postPhoto(item, photo, token) {
    var data = new FormData();
    data.append("file", photo.blob, "photo.jpg");
    data.append("uuid", photo.uuid);
    if (photo.caption) data.append("caption", photo.caption);
    return request(PHOTOS[item.kind] + item.uuid + "/photos", {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": token },
      body: data
    }, PHOTO_TIMEOUT_MS);
  }

  // What a refusal means: wait and retry, sign in again, ask again for a token, or keep it for the assistant.
  function verdict(result) {
    var status = result.status;
    var body = result.body || {};
    if (status === 0 || status >= 500 || status === 429) return { retry: true };
    if (status === 401 || body.error === "password_change_required") return { login: true };
    if (status === 400 && body.error === "csrf") return { csrf: true };
    var text = body.message || ("服务器没有接受（" + status + "）");
    if (status === 422 && body.fields && body.fields.length) {
      text = body.fields.map(function (field) { return field.message; }).join("；");
    }
    return { attention: text };
  }

  // ---- the queue ----

  function save(item) { return store.put("outbox", item).then(changed); }

  function changed() {
    if (channel) channel.postMessage("changed");
    return render();
  }

  function waitingItems() {
    return store.all("outbox").then(function (items) {
      return items.sort(function (a, b) { return a.created_at - b.created_at; });
    });
  }

  function backoff(item, note) {
    item.attempts = (item.attempts || 0) + 1;
    item.state = "waiting";
    item.next_at = Date.now() + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * Math.pow(2, item.attempts - 1));
    item.message = note || "网络不通，有信号时自动上传";
    return save(item);
  }

  function keepForAttention(item, text) {
    item.state = "attention";
    item.message = text;
    return save(item);
  }

  function rememberSent(uuid) {
    try {
      var sent = JSON.parse(localStorage.getItem(SENT_KEY) || "{}");
      sent[uuid] = Date.now();
      Object.keys(sent).forEach(function (key) { if (Date.now() - sent[key] > 86400000) delete sent[key]; });
      localStorage.setItem(SENT_KEY, JSON.stringify(sent));
    } catch (error) { /* the next page just will not say 已保存 */ }
  }

  // Send one item: its record once, then each photo not yet confirmed. Returns what to do next.
  function sendItem(item, token) {
    var first = item.sent ? Promise.resolve(null) : postRecord(item, token).then(function (result) {
      if (result.status === 201 || result.status === 200) {
        item.sent = true;
        return null;
      }
      return verdict(result);
    });
    return first.then(function (stop) {
      if (stop) return stop;
      var photos = item.photos || [];
      var index = 0;
      function next() {
        while (index < photos.length && photos[index].done) index += 1;
        if (index >= photos.length) return Promise.resolve(null);
        var photo = photos[index];
        item.state = "sending";
        item.progress = "照片 " + (index + 1) + "/" + photos.length;
        return save(item).then(function () { return postPhoto(item, photo, token); }).then(function (result) {
          if (result.status === 201 || result.status === 200) {
            photo.done = true;
            return save(item).then(next);
          }
          var stop = verdict(result);
          if (stop.attention) stop.attention = "第 " + (index + 1) + " 张照片没有上传：" + stop.attention;
          return stop;
        });
      }
      item.state = "sending";
      return save(item).then(next);
    }).then(function (stop) {
      if (stop) return stop;
      rememberSent(item.uuid);
      return store.remove("outbox", item.uuid).then(changed).then(function () {
        var detail = { uuid: item.uuid, kind: item.kind, household_id: item.household_id };
        if (item.payload && item.payload.alert_id) detail.alert_id = item.payload.alert_id;  // its task is done
        document.dispatchEvent(new CustomEvent("doudi:sent", { detail: detail }));
        return { done: true };
      });
    });
  }

  function loop() {
    var session = null;
    var csrfRetried = false;
    function step() {
      return waitingItems().then(function (items) {
        var now = Date.now();
        var ready = items.filter(function (i) { return i.state !== "attention" && (i.next_at || 0) <= now; });
        if (!ready.length) return null;
        var item = ready[0];
        var ensure = session ? Promise.resolve(session) : freshSession();
        return ensure.then(function (fresh) {
          if (!fresh) return backoff(item);  // no answer at all: the signal is gone again
          if (fresh.login || fresh.other) {
            needsLogin = true;
            return render();
          }
          session = fresh;
          needsLogin = false;
          return sendItem(item, session.token).then(function (outcome) {
            if (outcome.done) return step();
            if (outcome.retry) return backoff(item);
            if (outcome.login) {
              needsLogin = true;
              item.state = "login";
              return save(item);
            }
            if (outcome.csrf && !csrfRetried) {
              csrfRetried = true;
              session = null;
              return step();
            }
            return keepForAttention(item, outcome.attention || "页面已过期，请刷新后重试").then(step);
          });
        });
      });
    }
    return step();
  }

  function schedule() {
    clearTimeout(timer);
    waitingItems().then(function (items) {
      var times = items.filter(function (i) { return i.state !== "attention"; }).map(function (i) { return i.next_at || 0; });
      if (!times.length) return;
      var wait = Math.max(1000, Math.min(MAX_RETRY_MS, Math.min.apply(null, times) - Date.now()));
      timer = setTimeout(sync, wait);
    }).catch(function () { /* no store: nothing to schedule */ });
  }

  function sync() {
    if (!store.available() || !navigator.onLine) return Promise.resolve();  // "online" starts it again
    if (running) return running;
    running = loop().catch(function () { /* a broken store or page: the next trigger tries again */ }).then(function () {
      running = null;
      schedule();
    });
    return running;
  }

  // A new chance for everything waiting (the signal is back): forget the backoff.
  function retryNow() {
    return waitingItems().then(function (items) {
      return Promise.all(items.filter(function (i) { return i.state === "waiting" || i.state === "login"; })
        .map(function (i) { i.next_at = 0; i.state = "waiting"; return store.put("outbox", i); }));
    }).then(sync, function () { /* no store */ });
  }

  // ---- what the pages show ----

  function render() {
    var counters = document.querySelectorAll("[data-outbox-count]");
    var list = document.querySelector("[data-outbox-list]");
    if (!store.available()) {
      Array.prototype.forEach.call(counters, function (el) { show(el, 0, 0); });
      return Promise.resolve();
    }
    return waitingItems().then(function (items) {
      var attention = items.filter(function (i) { return i.state === "attention"; }).length;
      Array.prototype.forEach.call(counters, function (el) { show(el, items.length, attention); });
      var banner = document.querySelector("[data-login-needed]");
      if (banner) banner.hidden = !(needsLogin && items.length);
      if (list) renderList(list, items);
      document.dispatchEvent(new CustomEvent("doudi:outbox", { detail: { items: items } }));
    }, function () { /* no store */ });
  }

  function show(el, count, attention) {
    el.textContent = count + " 条待上传" + (attention ? "（" + attention + " 条需要处理）" : "");
    el.setAttribute("data-count", String(count));
    el.classList.toggle("outbox-count--attention", attention > 0);
  }

  function describe(item) {
    if (item.state === "attention") return STATES.attention + "：" + (item.message || "");
    if (item.state === "sending") return STATES.sending + (item.progress ? "（" + item.progress + "）" : "");
    if (item.state === "login") return STATES.login;
    return STATES.waiting + (item.attempts ? "（已试 " + item.attempts + " 次）" : "");
  }

  function renderList(list, items) {
    list.textContent = "";
    if (!items.length) {
      var empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "全部都已上传，手机上没有待上传的记录";
      list.appendChild(empty);
      return;
    }
    items.forEach(function (item) {
      var row = document.createElement("div");
      row.className = "outbox-item outbox-item--" + item.state;
      row.setAttribute("data-outbox-item", item.uuid);
      var title = document.createElement("p");
      title.className = "outbox-item__title";
      title.textContent = (TITLES[item.kind] || TITLES.visit) + (item.label || "");
      var meta = document.createElement("p");
      meta.className = "muted small";
      var photos = (item.photos || []).length;
      meta.textContent = new Date(item.created_at).toLocaleString("zh-CN", { hour12: false }) +
        (photos ? " · " + photos + " 张照片" : "");
      var state = document.createElement("p");
      state.className = "outbox-item__state";
      state.setAttribute("data-outbox-state", item.state);
      state.textContent = describe(item);
      row.appendChild(title);
      row.appendChild(meta);
      row.appendChild(state);
      if (item.state === "attention") {
        row.appendChild(button("重试", "retry", item.uuid));
        row.appendChild(button("删除这条记录", "delete", item.uuid));
      }
      list.appendChild(row);
    });
  }

  function button(text, action, uuid) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link-button outbox-item__action";
    b.textContent = text;
    b.setAttribute("data-outbox-action", action);
    b.setAttribute("data-uuid", uuid);
    return b;
  }

  document.addEventListener("click", function (event) {
    var b = event.target.closest("[data-outbox-action]");
    if (b) {
      var uuid = b.getAttribute("data-uuid");
      store.get("outbox", uuid).then(function (item) {
        if (!item) return null;
        if (b.getAttribute("data-outbox-action") === "delete") {
          if (!window.confirm("删除后这条记录就没有了，也不会再上传。确定删除吗？")) return null;
          return store.remove("outbox", uuid).then(changed);
        }
        item.state = "waiting";
        item.next_at = 0;
        item.message = "";
        return save(item).then(sync);
      });
      return;
    }
    if (event.target.closest("[data-outbox-export]")) exportFile();
  });

  // ---- 导出未上传记录: the escape hatch when a phone cannot get a signal for days ----

  function base64(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(",")[1] || ""); };
      reader.onerror = reject;
      reader.readAsDataURL(blob);
    });
  }

  function exportFile() {
    return waitingItems().then(function (items) {
      return Promise.all(items.map(function (item) {
        return Promise.all((item.photos || []).filter(function (p) { return !p.done; }).map(function (photo) {
          return base64(photo.blob).then(function (data) {
            return { uuid: photo.uuid, caption: photo.caption || null, jpeg_base64: data };
          });
        })).then(function (photos) { return { kind: item.kind, payload: item.payload, photos: photos }; });
      }));
    }).then(function (entries) {
      var user = document.querySelector('meta[name="doudi-user-name"]');
      var file = {
        format: "doudi-outbox",
        version: 1,
        exported_at: new Date().toISOString(),
        user: { id: Number(store.user()), username: user ? user.content : "" },
        items: entries
      };
      var stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(file)], { type: "application/json" }));
      link.download = "doudi-outbox-" + (file.user.username || file.user.id) + "-" + stamp + ".json";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      return entries.length;
    });
  }

  // ---- signing out with work still on the phone ----

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!/\/logout$/.test(form.getAttribute("action") || "") || form.hasAttribute("data-checked")) return;
    event.preventDefault();
    var go = function () {
      form.setAttribute("data-checked", "");
      var done = [store.forgetPack().catch(function () {})];
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "signed-out" });
      }
      try { localStorage.removeItem("doudi-last-user"); } catch (error) { /* nothing kept */ }
      Promise.all(done).then(function () { form.submit(); });
    };
    waitingItems().then(function (items) {
      if (items.length && window.confirm("还有 " + items.length + " 条记录没有上传。退出后要等您再登录才会上传。" +
        "点“确定”先把它们导出成文件（可交乡镇导入），点“取消”不导出。")) {
        return exportFile().then(function () {
          if (window.confirm("已导出。现在退出登录吗？")) go();
        });
      }
      if (!items.length || window.confirm("确定退出登录吗？未上传的记录会留在手机上，下次登录后自动上传。")) go();
      return null;
    }, go);
  });

  // ---- when to try ----

  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") sync(); });
  if (channel) channel.onmessage = function () { render(); };
  document.addEventListener("DOMContentLoaded", function () {
    render();
    sync();
  });

  window.DoudiOutbox = {
    // Keep an item (its record and its photos as Blobs) on the phone, then try to send it.
    add: function (item) {
      item.created_at = item.created_at || Date.now();
      item.state = "waiting";
      item.attempts = 0;
      item.next_at = 0;
      item.sent = false;
      return store.put("outbox", item).then(changed).then(function () {
        store.persist().catch(function () {});
        return item;
      });
    },
    sync: sync,
    retryNow: retryNow,
    render: render,
    exportFile: exportFile,
    items: waitingItems,
    forHousehold: function (householdId) {
      return waitingItems().then(function (items) {
        return items.filter(function (i) { return String(i.household_id) === String(householdId); });
      });
    },
    wasSent: function (uuid) {
      try { return Boolean(JSON.parse(localStorage.getItem(SENT_KEY) || "{}")[uuid]); } catch (error) { return false; }
    },
    describe: describe
  };
})();
