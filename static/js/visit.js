/* 兜底通 visit form: one form online and offline. What is typed is kept on the phone as a draft at every change;
   提交 puts the visit (and its photos, already shrunk) into the outbox before any network call, and the outbox
   sends it when there is a signal. The UUID is made here when the form opens, so a retry never counts twice.
   GPS is watched while the page is open, never waited for. No inline scripts (CSP). */
(function () {
  "use strict";
  var form = document.querySelector("[data-visit-form]");
  if (!form) return;

  var store = window.DoudiStore;
  var outbox = window.DoudiOutbox;
  var pack = window.DoudiPack;
  var uuid4 = window.DoudiPhotos.uuid4;
  var shrink = window.DoudiPhotos.shrink;
  var SEND_WAIT_MS = 15000;  // online, wait this long for the server before leaving the form
  var DRAFT_DAYS = 7;

  var householdId = form.getAttribute("data-household") ||
    (location.pathname.match(/^\/households\/(\d+)\/visits\/new$/) || [])[1];
  var draftKey = "visit:" + householdId;
  var submitButton = form.querySelector("[data-submit]");
  var message = form.querySelector("[data-submit-message]");
  var photoList = form.querySelector("[data-photo-list]");
  var photoAdd = photoList.querySelector(".photo-add");
  var photoError = form.querySelector("[data-photo-error]");
  var photoInputs = Array.prototype.slice.call(form.querySelectorAll("[data-photo-input]"));
  var maxPhotos = Number(form.getAttribute("data-max-photos"));
  var needList = form.querySelector("[data-need-list]");
  var needTemplate = form.querySelector("[data-need-template]");
  var addNeed = form.querySelector("[data-add-need]");
  var alertCheck = form.querySelector("[data-alert-check]");  // 主动发现: the alert this visit checks, if any

  var photos = [];  // {uuid, blob, url, li, caption}
  var processing = Promise.resolve();
  var label = form.getAttribute("data-label") || "";
  var best = null;  // the most accurate position seen while the form is open
  var dirty = false;
  var submitted = false;
  var saveTimer = null;

  function say(text, tone) {
    message.textContent = text;
    message.className = "notice notice--" + (tone || "error");
    message.hidden = !text;
  }

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  // ---- the household: from the page, or (offline) from the phone's pack ----

  function showSelfChecks(categories) {
    var any = false;
    Array.prototype.forEach.call(form.querySelectorAll("[data-self-check]"), function (item) {
      var applies = item.getAttribute("data-categories").split(" ");
      var shown = applies.some(function (c) { return categories.indexOf(c) >= 0; });
      item.hidden = !shown;
      any = any || shown;
    });
    form.querySelector("[data-self-checks-title]").hidden = !any;
  }

  // 自理能力: online the server lists the members asked; offline the pack's members with those categories
  function showSelfCare(members) {
    var block = form.querySelector("[data-self-care]");
    if (!block) return;
    var asked = block.getAttribute("data-asked").split(" ");
    var list = block.querySelector("[data-self-care-list]");
    var template = block.querySelector("[data-self-care-template]").innerHTML;
    members.forEach(function (member) {
      var id = String(Number(member.id));  // a row id: digits only, safe in ids and names
      var wanted = (member.categories || []).some(function (c) { return asked.indexOf(c) >= 0; });
      if (!wanted || list.querySelector('[data-self-care-person="' + id + '"]')) return;
      var holder = document.createElement("div");
      holder.innerHTML = template.replace(/PERSON/g, id).replace(/NAME/g, "");
      var row = holder.firstElementChild;
      row.querySelector("[data-self-care-name]").textContent = member.name;  // text, never markup
      row.querySelector("[role=radiogroup]").setAttribute("aria-label", member.name + "的自理能力");
      list.appendChild(row);
    });
    block.hidden = !list.querySelector("[data-self-care-person]");
  }

  function fillFromPack() {
    if (form.getAttribute("data-household")) return Promise.resolve(true);  // the server filled it in
    document.title = "走访登记 · 兜底通";
    if (!pack || !householdId) return Promise.resolve(false);
    return pack.household(householdId).then(function (household) {
      if (!household) return false;
      var info = {};
      return pack.meta().then(function (meta) { info = meta || {}; }).then(function () {
        var head = pack.head(household);
        var village = (info.villages || {})[household.village] || "";
        label = village + " " + household.no + "号";
        form.querySelector("[data-fill=head]").textContent = head ? head.name : "（未登记户主）";
        form.querySelector("[data-fill=place]").textContent = label + (household.address ? " · " + household.address : "");
        var title = document.querySelector(".topbar__title");
        if (title) title.textContent = "走访 · " + label;
        form.elements.household_id.value = household.id;
        showSelfChecks(household.categories || []);
        showSelfCare(household.members || []);
        var kind = form.querySelector('input[name="kind"][value="' + (household.survey_due ? "survey" : "routine") + '"]');
        if (kind) kind.checked = true;
        return fillAlertFromPack(household, info).then(function () { return true; });
      });
    }).catch(function () { return false; });
  }

  // 主动发现 with no signal: the task named by ?alert=, from the pack, in the block the shell holds as a <template>.
  // A task a visit on this phone already checks (waiting to upload, or refused) is shown as done: no second check.
  function fillAlertFromPack(household, info) {
    var template = form.querySelector("[data-alert-check-template]");
    var wanted = Number(new URLSearchParams(location.search).get("alert"));
    if (!template || !wanted || !pack.alerts) return Promise.resolve();
    return pack.alerts().then(function (tasks) {
      var task = tasks.filter(function (t) { return t.id === wanted && t.household_id === household.id; })[0];
      if (!task) {
        form.querySelector("[data-alert-unknown]").hidden = false;
        return null;
      }
      return pack.onPhone([task]).then(function (done) {
        var words = info.labels || {};
        var grade = ["red", "orange", "yellow"].indexOf(task.grade) >= 0 ? task.grade : "yellow";
        var block = template.content.firstElementChild.cloneNode(true);
        var tag = block.querySelector("[data-alert-fill=grade]");
        tag.classList.add("tag--grade-" + grade);
        tag.textContent = (words.alert_grades || {})[grade] || grade;
        block.querySelector("[data-alert-fill=rule]").textContent = (words.alert_rules || {})[task.rule] || task.rule;
        block.querySelector("[data-alert-fill=reason]").textContent = task.reason;
        if (done[task.id]) {
          block.querySelector("[data-alert-outcome-fields]").remove();
          var settled = block.querySelector("[data-alert-settled]");
          if (done[task.id] === "attention") {
            settled.textContent = "上次核实这条预警的走访没有上传（请看“待上传的记录”）：这次走访不再核实它，照常登记即可。";
          }
          settled.hidden = false;
        } else {
          block.querySelector("[name=alert_id]").value = String(task.id);
        }
        template.replaceWith(block);
        alertCheck = block;
        return null;
      });
    }).catch(function () { /* no store: the visit is recorded without the check */ });
  }

  // ---- GPS ----

  function watchLocation() {
    var line = form.querySelector("[data-gps]");
    var text = form.querySelector("[data-gps-text]");
    var none = "未获取定位（不影响保存）";
    if (!navigator.geolocation) { text.textContent = none; return; }
    var watch = navigator.geolocation.watchPosition(function (position) {
      var c = position.coords;
      if (best && c.accuracy >= best.accuracy) return;
      best = { lat: c.latitude, lon: c.longitude, accuracy: Math.min(Math.round(c.accuracy), 100000) };
      text.textContent = "已定位 ±" + best.accuracy + " 米";
      line.classList.add("visit-gps--ok");
    }, function () {
      if (!best) text.textContent = none;
    }, { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 });
    window.addEventListener("pagehide", function () { navigator.geolocation.clearWatch(watch); });
  }

  // ---- needs: rows added and removed (without JavaScript the page shows three empty rows) ----

  function needRows() { return Array.prototype.slice.call(needList.querySelectorAll("[data-need-row]")); }

  function addNeedRow() {
    var row = needTemplate.content.firstElementChild.cloneNode(true);
    row.querySelector("[data-remove-need]").hidden = false;
    needList.appendChild(row);
    return row;
  }

  function setUpNeeds() {
    needRows().slice(1).forEach(function (row) { row.remove(); });
    needRows().forEach(function (row) { row.querySelector("[data-remove-need]").hidden = false; });
    addNeed.hidden = false;
    addNeed.addEventListener("click", function () { addNeedRow().querySelector("select").focus(); });
    needList.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-need]");
      if (button) { button.closest("[data-need-row]").remove(); changed(); }
    });
  }

  // ---- photos: shrunk on the phone, kept as Blobs in the draft and the outbox ----

  function countPhotos() {
    form.querySelector("[data-photo-count]").textContent = String(photos.length);
    photoAdd.hidden = photos.length >= maxPhotos;
  }

  function setStatus(photo, text, state) {
    photo.li.querySelector("[data-photo-status]").textContent = text;
    photo.li.querySelector(".photo__frame").classList.toggle("weui-uploader__file_status", Boolean(text));
    photo.li.setAttribute("data-state", state);
  }

  function showPhoto(photo) {
    var li = form.querySelector("[data-photo-template]").content.firstElementChild.cloneNode(true);
    photo.li = li;
    photoList.insertBefore(li, photoAdd);
    if (photo.blob) {
      photo.url = URL.createObjectURL(photo.blob);
      li.querySelector("img").src = photo.url;
    }
    if (photo.caption) li.querySelector("[data-photo-caption]").value = photo.caption;
    li.setAttribute("data-state", photo.blob ? "ready" : "processing");
    countPhotos();
  }

  function addPhoto(file) {
    if (photos.length >= maxPhotos) {
      photoError.textContent = "最多 " + maxPhotos + " 张照片";
      photoError.hidden = false;
      return Promise.resolve();
    }
    var photo = { uuid: uuid4(), blob: null, caption: "" };
    photos.push(photo);
    showPhoto(photo);
    setStatus(photo, "处理中…", "processing");
    return shrink(file).then(function (blob) {
      photo.blob = blob;
      photo.url = URL.createObjectURL(blob);
      photo.li.querySelector("img").src = photo.url;
      setStatus(photo, "", "ready");
      changed();
    }, function () {
      removePhoto(photo);
      photoError.textContent = "有一张照片读不出来，请换一张或重新拍";
      photoError.hidden = false;
    });
  }

  function removePhoto(photo) {
    photos.splice(photos.indexOf(photo), 1);
    if (photo.url) URL.revokeObjectURL(photo.url);
    photo.li.remove();
    countPhotos();
    changed();
  }

  function setUpPhotos() {
    photoInputs.forEach(function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files);
        input.value = "";  // the same picture may be chosen again after removing it
        photoError.hidden = true;
        files.forEach(function (file) {
          processing = processing.then(function () { return addPhoto(file); });  // one at a time: memory is short
        });
      });
    });
    photoList.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-photo]");
      if (!button) return;
      var li = button.closest("[data-photo]");
      removePhoto(photos.filter(function (p) { return p.li === li; })[0]);
    });
    photoList.addEventListener("change", function (event) {
      var select = event.target.closest("[data-photo-caption]");
      if (!select) return;
      var li = select.closest("[data-photo]");
      photos.forEach(function (p) { if (p.li === li) p.caption = select.value; });
    });
  }

  // ---- the alert check: 转介 asks where to; 临时救助 goes on to the relief form once the visit is saved ----

  function showAlertChoices() {
    if (!alertCheck || !form.elements.alert_id) return;
    var outcome = checked("alert_outcome");
    alertCheck.querySelector("[data-alert-referral]").hidden = outcome !== "referral";
    alertCheck.querySelector("[data-alert-relief-tip]").hidden = outcome !== "relief";
  }

  function setUpAlertCheck() {
    if (!alertCheck) return;
    alertCheck.addEventListener("change", showAlertChoices);
    showAlertChoices();
  }

  // ---- the draft: every change is kept on the phone, so a killed tab loses nothing ----

  function formState() {
    var fields = {};
    Array.prototype.forEach.call(form.querySelectorAll("input, textarea, select"), function (el) {
      if (!el.name || el.type === "file" || el.closest("[data-need-row]") || el.closest("[data-photo]")) return;
      if (el.type === "radio") { if (el.checked) fields[el.name] = el.value; }
      else if (el.type === "checkbox") { if (el.checked) (fields[el.name] = fields[el.name] || []).push(el.value); }
      else fields[el.name] = el.value;
    });
    var needs = needRows().map(function (row) {
      return { type: row.querySelector("select").value, text: row.querySelector("input").value };
    });
    return {
      key: draftKey,
      uuid: form.elements.uuid.value,
      saved_at: Date.now(),
      fields: fields,
      needs: needs,
      photos: photos.filter(function (p) { return p.blob; }).map(function (p) {
        return { uuid: p.uuid, blob: p.blob, caption: p.caption };
      })
    };
  }

  function saveDraft() {
    clearTimeout(saveTimer);
    if (submitted || !store || !store.available()) return Promise.resolve();
    return store.put("drafts", formState()).catch(function (error) {
      if (store.isFull(error)) say(store.FULL_MESSAGE);
    });
  }

  function changed() {
    dirty = true;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, 400);
  }

  function restore(draft) {
    form.elements.uuid.value = draft.uuid;  // the same visit: a copy sent before lands once
    Object.keys(draft.fields).forEach(function (name) {
      if (name === "uuid" || name === "household_id" || name === "scan_id" || name === "alert_id") return;
      var value = draft.fields[name];
      Array.prototype.forEach.call(form.querySelectorAll('[name="' + name + '"]'), function (el) {
        if (el.type === "radio") el.checked = el.value === value;
        else if (el.type === "checkbox") el.checked = value.indexOf(el.value) >= 0;
        else el.value = value;
      });
    });
    needRows().forEach(function (row) { row.remove(); });
    (draft.needs.length ? draft.needs : [{ type: "", text: "" }]).forEach(function (need) {
      var row = addNeedRow();
      row.querySelector("select").value = need.type;
      row.querySelector("input").value = need.text;
    });
    draft.photos.forEach(function (p) {
      var photo = { uuid: p.uuid, blob: p.blob, caption: p.caption };
      photos.push(photo);
      showPhoto(photo);
    });
    showAlertChoices();
    dirty = true;
  }

  function offerDraft() {
    if (!store || !store.available()) return Promise.resolve();
    return store.get("drafts", draftKey).then(function (draft) {
      if (!draft || Date.now() - draft.saved_at > DRAFT_DAYS * 86400000) return;
      var offer = form.querySelector("[data-draft-offer]");
      offer.hidden = false;
      offer.querySelector("[data-draft-resume]").addEventListener("click", function () {
        restore(draft);
        offer.hidden = true;
      });
      offer.querySelector("[data-draft-discard]").addEventListener("click", function () {
        store.remove("drafts", draftKey);
        offer.hidden = true;
      });
    }).catch(function () { /* no store: nothing to offer */ });
  }

  // ---- the visit as JSON (VisitIn), with the mistakes a clerk can fix before saving ----

  function serialise() {
    var problems = [];
    var payload = {
      uuid: form.elements.uuid.value,
      household_id: Number(form.elements.household_id.value),
      kind: checked("kind"),
      visited_at: new Date().toISOString(),  // the phone's time of the visit; the server notes when it arrived
      checklist: {},
      self_checks: {},
      changes: [],
      needs: [],
      risk: checked("risk") || "normal",
      notes: form.elements.notes.value.trim() || null
    };
    if (form.elements.scan_id) payload.scan_id = Number(form.elements.scan_id.value);
    Array.prototype.forEach.call(form.querySelectorAll("[data-note]"), function (note) {
      var key = note.getAttribute("data-note");
      var answer = checked("check-" + key);
      if (answer === "ok") payload.checklist[key] = { ok: true };
      if (answer === "problem") {
        payload.checklist[key] = { ok: false, note: note.value.trim() };
        if (!note.value.trim()) problems.push({ field: "checklist." + key, message: "有问题的项目请简单写明情况" });
      }
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-self-check]:not([hidden])"), function (item) {
      var key = item.getAttribute("data-self-check");
      var answer = checked("self-" + key);
      if (answer) payload.self_checks[key] = answer === "yes";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-self-care-person]"), function (row) {
      var id = row.getAttribute("data-self-care-person");
      var answer = checked("selfcare-" + id);
      if (!answer) return;
      payload.self_care = payload.self_care || {};
      payload.self_care[id] = answer;
    });
    Array.prototype.forEach.call(form.querySelectorAll('input[name="changes"]:checked'), function (box) {
      payload.changes.push(box.value);
    });
    needRows().forEach(function (row) {
      var type = row.querySelector("select").value;
      var text = row.querySelector("input").value.trim();
      row.removeAttribute("data-field");
      if (!type && !text) return;
      var field = "needs." + payload.needs.length;
      row.setAttribute("data-field", field);
      if (!type) problems.push({ field: field, message: "请选择诉求类型" });
      if (!text) problems.push({ field: field, message: "请写明诉求内容" });
      payload.needs.push({ type: type, description: text });
    });
    if (form.elements.alert_id) serialiseAlertCheck(payload, problems);
    if (!payload.kind) problems.push({ field: "kind", message: "请选择走访类型" });
    if (best) payload.location = best;
    return { payload: payload, problems: problems };
  }

  // the same rules as VisitIn's validators (services/api/schemas.py), said before the visit leaves the phone
  function serialiseAlertCheck(payload, problems) {
    var outcome = checked("alert_outcome");
    var note = form.elements.alert_note.value.trim();
    payload.alert_id = Number(form.elements.alert_id.value);
    payload.alert_outcome = outcome;
    payload.alert_referral_to = outcome === "referral" ? (form.elements.alert_referral_to.value || null) : null;
    payload.alert_note = note || null;
    if (!outcome) problems.push({ field: "alert_outcome", message: "请选择核实结果" });
    if (outcome === "referral" && !payload.alert_referral_to) {
      problems.push({ field: "alert_referral_to", message: "请选择转介到哪里" });
    }
    if (outcome === "referral" && !note) problems.push({ field: "alert_note", message: "转介请写明情况（转给谁、为什么）" });
    if (outcome === "excluded" && !note) problems.push({ field: "alert_note", message: "排除请写明理由" });
  }

  function clearFieldErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error[data-js]"), function (e) { e.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll(".has-error"), function (e) { e.classList.remove("has-error"); });
  }

  function showFieldErrors(list) {
    var first = null;
    list.forEach(function (item) {
      var box = form.querySelector('[data-field="' + item.field + '"]');
      if (!box) return;
      var line = document.createElement("span");
      line.className = "field-error";
      line.setAttribute("data-js", "");
      line.textContent = item.message;
      box.classList.add("has-error");
      box.appendChild(line);
      first = first || box;
    });
    say("请改正标红的项目");
    if (first) first.scrollIntoView({ block: "center" });
  }

  // ---- 提交: into the outbox first, then the network ----

  // Pages open with no signal only where a service worker answers for them.
  function canOpenOffline() {
    return Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
  }

  function keptOnThisPage(item) {
    form.querySelectorAll("input, select, textarea, button").forEach(function (el) { el.disabled = true; });
    submitButton.textContent = "已存入手机";
    if (item && item.state === "attention") {
      say("没有上传：" + (item.message || "服务器没有接受") + "。这条记录留在手机上，请到“待上传的记录”里处理。");
    } else {
      say("已存入手机，待上传：有信号时自动上传，不用再填。有信号后再打开别的页面。", "success");
    }
    var links = document.createElement("p");
    links.className = "kept-links";
    [["/households/" + householdId, "回到这户"], ["/outbox", "待上传的记录"]].forEach(function (pair) {
      var a = document.createElement("a");
      a.href = pair[0];
      a.textContent = pair[1];
      a.className = "weui-btn weui-btn_default weui-btn_mini";
      links.appendChild(a);
    });
    message.appendChild(links);
    message.scrollIntoView({ block: "center" });
  }

  function householdPage(uuid) {
    return "/households/" + householdId + "?saved=" + encodeURIComponent(uuid);
  }

  function submit(event) {
    event.preventDefault();
    if (submitted) return;  // a double tap saves nothing twice
    clearFieldErrors();
    say("");
    submitButton.disabled = true;
    processing.then(function () {
      var built = serialise();
      if (built.problems.length) {
        submitButton.disabled = false;
        showFieldErrors(built.problems);
        return null;
      }
      if (!outbox) throw new Error("no outbox");
      submitted = true;
      submitButton.textContent = "正在保存…";
      clearTimeout(saveTimer);
      var head = form.querySelector("[data-fill=head]").textContent;
      return outbox.add({
        uuid: built.payload.uuid,
        kind: "visit",
        household_id: householdId,
        label: label + " " + head,
        payload: built.payload,
        photos: photos.filter(function (p) { return p.blob; }).map(function (p) {
          return { uuid: p.uuid, blob: p.blob, caption: p.caption || null, done: false };
        })
      }).then(function () {
        dirty = false;
        store.remove("drafts", draftKey).catch(function () {});
        if (!navigator.onLine) return null;
        submitButton.textContent = "已存入手机，正在上传…";
        return Promise.race([outbox.sync(), new Promise(function (resolve) { setTimeout(resolve, SEND_WAIT_MS); })]);
      }).then(function () {
        var uuid = built.payload.uuid;
        // 临时救助 next; with no signal its form opens from the pack too, and keeps a draft
        if ((outbox.wasSent(uuid) || canOpenOffline()) && built.payload.alert_outcome === "relief") {
          window.location.replace("/relief/new?household=" + encodeURIComponent(householdId));  // 临时救助 next
          return null;
        }
        if (outbox.wasSent(uuid) || canOpenOffline()) {
          window.location.replace(householdPage(uuid));  // Back must not land on a sent form
          return null;
        }
        // No service worker: with no signal the next page would be the browser's error page. Stay and say why.
        return store.get("outbox", uuid).then(keptOnThisPage, function () { keptOnThisPage(null); });
      });
    }).catch(function (error) {
      submitted = false;
      submitButton.disabled = false;
      submitButton.textContent = "提交走访";
      say(store && store.isFull(error) ? store.FULL_MESSAGE :
        "这台手机没能把走访存下来（浏览器不支持离线存储）：请换用系统浏览器或微信最新版，内容还在这页上");
    });
  }

  // ---- leaving a half-filled form asks first ----

  function guardLeaving() {
    window.addEventListener("beforeunload", function (event) {
      if (!dirty || submitted) return undefined;
      saveDraft();
      event.preventDefault();
      event.returnValue = "";
      return "";
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[href]");
      if (!link || !dirty || submitted || link.closest("[data-visit-form]")) return;
      saveDraft();
      if (!window.confirm("这次走访还没有提交。离开吗？已填的内容存为草稿，下次打开这户的走访可以接着填。")) {
        event.preventDefault();
      } else {
        dirty = false;  // asked already: the browser need not ask again
      }
    }, true);
  }

  fillFromPack().then(function (known) {
    if (!known) {
      say("手机上的离线资料里没有这户：请有信号时打开，或先在“我的”里更新离线资料");
      submitButton.disabled = true;
      return;
    }
    form.elements.uuid.value = uuid4();
    watchLocation();
    setUpNeeds();
    setUpPhotos();
    setUpAlertCheck();
    guardLeaving();
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", submit);
    offerDraft();
  });
})();
