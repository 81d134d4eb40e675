/* 兜底通: what this phone keeps for its user, in IndexedDB (through the vendored idb library).
   One database per account ("doudi-u<id>"): another person signing in on the same phone never sees it.
   Stores: outbox (what waits to be uploaded), drafts (forms being filled), pack (the assistant's households), meta. */
(function () {
  "use strict";
  var VERSION = 1;
  var LAST_USER = "doudi-last-user";  // localStorage: whose database a page opened with no signal uses
  var FULL_MESSAGE = "手机存储空间已满，新的记录存不进去：请删掉一些照片或聊天记录，再试一次";
  var connection = null;

  function currentUser() {
    var meta = document.querySelector('meta[name="doudi-user"]');
    var user = meta && meta.content;
    try {
      if (user) localStorage.setItem(LAST_USER, user);
      else user = localStorage.getItem(LAST_USER);
    } catch (error) { /* private mode: only the page's own account is known */ }
    return user || null;
  }

  function upgrade(db) {
    if (!db.objectStoreNames.contains("outbox")) {
      db.createObjectStore("outbox", { keyPath: "uuid" }).createIndex("created", "created_at");
    }
    if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "key" });
    if (!db.objectStoreNames.contains("pack")) {
      var pack = db.createObjectStore("pack", { keyPath: "id" });
      pack.createIndex("no", "no");
      pack.createIndex("card", "card");
    }
    if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
  }

  function open() {
    var user = currentUser();
    if (!user || !window.indexedDB || !window.idb) return Promise.reject(new Error("no-store"));
    if (connection && connection.user === user) return connection.db;
    var db = window.idb.openDB("doudi-u" + user, VERSION, {
      upgrade: upgrade,
      terminated: function () { connection = null; }  // iOS may close it in the background: reopen next time
    });
    connection = { user: user, db: db };
    db.then(function (opened) {
      opened.addEventListener("close", function () { connection = null; });
    }, function () { connection = null; });
    return db;
  }

  // Run fn(db); if iOS closed the database meanwhile, open it again and run once more.
  function withDb(fn) {
    return open().then(fn).catch(function (error) {
      if (error && (error.name === "InvalidStateError" || /clos/i.test(String(error.message)))) {
        connection = null;
        return open().then(fn);
      }
      throw error;
    });
  }

  function isFull(error) {
    return Boolean(error && (error.name === "QuotaExceededError" || error.name === "NS_ERROR_DOM_QUOTA_REACHED" ||
      (error.inner && error.inner.name === "QuotaExceededError")));
  }

  var store = {
    FULL_MESSAGE: FULL_MESSAGE,
    user: currentUser,
    isFull: isFull,
    available: function () { return Boolean(currentUser() && window.indexedDB && window.idb); },
    get: function (name, key) { return withDb(function (db) { return db.get(name, key); }); },
    all: function (name) { return withDb(function (db) { return db.getAll(name); }); },
    put: function (name, value, key) {
      return withDb(function (db) { return key === undefined ? db.put(name, value) : db.put(name, value, key); });
    },
    remove: function (name, key) { return withDb(function (db) { return db.delete(name, key); }); },
    byIndex: function (name, index, value) {
      return withDb(function (db) { return db.getAllFromIndex(name, index, value); });
    },
    // Replace the whole pack in one transaction: a page never sees half of an old pack and half of a new one.
    replacePack: function (households, meta) {
      return withDb(function (db) {
        var tx = db.transaction(["pack", "meta"], "readwrite");
        var pack = tx.objectStore("pack");
        pack.clear();
        households.forEach(function (household) { pack.put(household); });
        tx.objectStore("meta").put(meta, "pack");
        return tx.done;
      });
    },
    // The pack is other people's data: it leaves the phone with the account (the outbox stays: it is typed work).
    forgetPack: function () {
      return withDb(function (db) {
        var tx = db.transaction(["pack", "meta"], "readwrite");
        tx.objectStore("pack").clear();
        tx.objectStore("meta").delete("pack");
        tx.objectStore("meta").delete("settled");  // the alert tasks this phone's uploads settled
        return tx.done;
      });
    },
    // Ask the browser to keep this data when space runs low (it may refuse; then it is kept while there is room).
    persist: function () {
      if (navigator.storage && navigator.storage.persist) {
        return navigator.storage.persisted().then(function (yes) { return yes || navigator.storage.persist(); });
      }
      return Promise.resolve(false);
    }
  };
  window.DoudiStore = store;

  // A page that shows a record the server now holds clears the draft it was typed in (data-clear-draft).
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-clear-draft]"), function (marker) {
      var key = marker.getAttribute("data-clear-draft");
      store.get("drafts", key).then(function (draft) {
        if (draft && draft.uuid === marker.getAttribute("data-uuid")) return store.remove("drafts", key);
        return null;
      }).catch(function () { /* no store */ });
    });
  });
})();
