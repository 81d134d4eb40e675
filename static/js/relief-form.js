/* 兜底通 relief form: every change is kept on the phone as a draft; with a signal the form posts as a page (the
   server checks it and marks each mistake); with none — or opened as the offline shell — 提交 puts it in the
   outbox, which sends it through the API when the signal is back. No inline scripts (CSP). */
(function () {
  "use strict";
  var form = document.querySelector("[data-relief-form]");
  if (!form || form.hasAttribute("data-editing")) return;  // editing a stored application needs the server
  var store = window.DoudiStore;
  var outbox = window.DoudiOutbox;
  var pack = window.DoudiPack;
  var params = new URLSearchParams(location.search);
  var householdId = form.getAttribute("data-household") || params.get("household");
  var shell = !form.getAttribute("data-household");
  var draftKey = "relief:" + householdId;
  var message = form.querySelector("[data-relief-message]");
  var label = "";
  var timer = null;
  var choice = "submit";

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  function values() {
    var data = {};
    ["person_id", "reason", "circumstances", "amount_yuan"].forEach(function (name) {
      data[name] = form.elements[name].value.trim();
    });
    var pay = form.querySelector('input[name="payment_form"]:checked');
    data.payment_form = pay ? pay.value : "";
    data.urgent = form.elements.urgent.checked;
    return data;
  }

  function saveDraft() {
    clearTimeout(timer);
    if (!store || !store.available()) return Promise.resolve();
    var draft = { key: draftKey, uuid: form.elements.uuid.value, saved_at: Date.now(), values: values() };
    return store.put("drafts", draft).catch(function (error) { if (store.isFull(error)) say(store.FULL_MESSAGE); });
  }

  function restore(draft) {
    form.elements.uuid.value = draft.uuid;  // the same application: a copy already sent lands once
    var v = draft.values;
    ["person_id", "reason", "circumstances", "amount_yuan"].forEach(function (name) {
      if (v[name]) form.elements[name].value = v[name];
    });
    Array.prototype.forEach.call(form.querySelectorAll('input[name="payment_form"]'), function (input) {
      input.checked = input.value === v.payment_form;
    });
    form.elements.urgent.checked = Boolean(v.urgent);
  }

  // As the offline shell: the household and its members come from the phone's pack.
  function fillFromPack() {
    if (!shell) return Promise.resolve(true);
    if (!pack || !householdId) return Promise.resolve(false);
    return Promise.all([pack.household(householdId), pack.meta()]).then(function (both) {
      var h = both[0];
      var meta = both[1] || { villages: {} };
      if (!h) return false;
      var head = pack.head(h);
      label = (meta.villages[h.village] || "") + " " + h.no + "号";
      form.querySelector("[data-fill=label]").textContent = label;
      form.querySelector("[data-fill=head]").textContent = head ? "户主 " + head.name : "";
      var select = form.elements.person_id;
      (h.members || []).forEach(function (m) {
        var option = document.createElement("option");
        option.value = m.id;
        option.textContent = m.name + "（" + m.relation + "）";
        select.appendChild(option);
      });
      var back = document.querySelector(".topbar__back");
      if (back) back.href = "/households/" + h.id;
      return true;
    });
  }

  function problems(v) {
    var list = [];
    if (!v.person_id) list.push("请选择遇到困难的家庭成员");
    if (!v.reason) list.push("请选择救助原因");
    if (!v.circumstances) list.push("请写明困难情况：发生了什么、现在缺什么");
    if (!/^\d+(\.\d{1,2})?$/.test(v.amount_yuan.replace(/[,，]/g, ""))) list.push("请填写申请金额，例如 600 或 600.50");
    if (!v.payment_form) list.push("请选择发放方式：一卡通、现金或实物");
    return list;
  }

  function keepOffline() {
    var v = values();
    var wrong = problems(v);
    if (wrong.length) { say(wrong.join("；")); return; }
    var uuid = form.elements.uuid.value;
    var payload = {
      uuid: uuid, household_id: Number(householdId), person_id: Number(v.person_id), reason: v.reason,
      circumstances: v.circumstances, amount_yuan: v.amount_yuan, payment_form: v.payment_form, urgent: v.urgent,
      submit: choice !== "draft"
    };
    var need = form.getAttribute("data-need") || params.get("need");
    if (need) payload.need_id = Number(need);
    outbox.add({ uuid: uuid, kind: "relief", household_id: householdId, label: label || form.querySelector("[data-fill=label]").textContent,
      payload: payload, photos: [] }).then(function () {
      return store.remove("drafts", draftKey).catch(function () {});
    }).then(function () {
      window.location.replace("/households/" + householdId + "?saved=" + encodeURIComponent(uuid));
    }, function (error) {
      say(store.isFull(error) ? store.FULL_MESSAGE : "这台手机没能把申请存下来，请有信号时再提交");
    });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest('button[name="submit"]');
    if (button) choice = button.value;
  });
  form.addEventListener("submit", function (event) {
    saveDraft();  // kept before any network call
    if (shell || !navigator.onLine) {
      event.preventDefault();
      if (outbox) keepOffline();
    }
  });

  fillFromPack().then(function (known) {
    if (!known) {
      say("手机上的离线资料里没有这户：请有信号时再申请");
      return;
    }
    if (!form.elements.uuid.value) form.elements.uuid.value = window.DoudiPhotos.uuid4();
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(saveDraft, 400); });
    form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(saveDraft, 400); });
    if (!store || !store.available()) return;
    store.get("drafts", draftKey).then(function (draft) {
      if (draft && window.confirm("这户有一份没填完的临时救助申请，接着填吗？")) restore(draft);
      else if (draft) store.remove("drafts", draftKey);
    }).catch(function () {});
  });
})();
