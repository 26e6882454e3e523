// The playground page: plain JS, no build step. The server renders every region as HTML; this
// script swaps regions in when they change and turns clicks, typing and submissions into calls to
// /playground/<action>, which sends the bot the signed Slack request.
"use strict";

const S = { config: null, user: null, place: "", version: -1, gen: 0, keys: {}, modalKey: null };
const $ = (sel, root = document) => root.querySelector(sel);

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch("/playground/" + path, init);
  const data = await res.json();
  if (data && data.note) note(data.note);
  return data;
}

function note(text) {
  const el = $("#note");
  el.textContent = text || "";
  el.hidden = !text;
  clearTimeout(note.timer);
  if (text) note.timer = setTimeout(() => { el.hidden = true; }, 8000);
}

function person(id) { return S.config.people.find((p) => p.id === id) || S.config.people[0]; }

// ---------------------------------------------------------------- who and where
function renderPeople() {
  const box = $("#people");
  box.innerHTML = "";
  for (const p of S.config.people) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "person" + (p.id === S.user ? " active" : "");
    b.dataset.user = p.id;
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(p.id === S.user));
    b.title = p.about;
    b.innerHTML = "<span class=\"name\"></span><span class=\"role\"></span>";
    b.querySelector(".name").textContent = p.real_name;
    b.querySelector(".role").textContent = p.role;
    box.appendChild(b);
  }
}

function renderPlace() {
  document.querySelectorAll(".place").forEach((a) => a.classList.toggle("active", a.dataset.place === S.place));
  const channel = "#" + S.config.channel.name;
  const titles = { "": channel, home: "Transfer bot · Home", messages: "Transfer bot · Messages" };
  $("#main-title").textContent = titles[S.place];
  $("#composer").hidden = S.place === "home";
  $("#message-input").placeholder = S.place === "messages" ? "Message Transfer bot"
    : `Message ${channel}   (try /transfer <conversation id> Support Tier 2)`;
}

function setUser(id) {
  S.user = id;
  localStorage.setItem("playground.user", id);
  renderPeople();
  closeMenu();
  if (S.place) api("open_app", { user: S.user, tab: S.place });
  refresh();
}

function setPlace(place) {
  S.place = place;
  renderPlace();
  if (place) api("open_app", { user: S.user, tab: place });
  refresh();
}

// ---------------------------------------------------------------- state from the server
function stateUrl(since) {
  const traffic = $("#traffic-box").open ? "1" : "0";
  const q = new URLSearchParams({ user: S.user, place: S.place, since: String(since), traffic });
  return "/playground/state?" + q;
}

function swap(sel, name, html, key) {
  if (S.keys[name] === key) return false;
  S.keys[name] = key;
  $(sel).innerHTML = html;
  return true;
}

function apply(st) {
  S.version = st.version;
  const tl = $("#timeline");
  const atBottom = tl.scrollHeight - tl.scrollTop - tl.clientHeight < 80;
  if (swap("#timeline", "main", st.main, st.main_key + S.user + S.place) && atBottom) tl.scrollTop = tl.scrollHeight;
  swap("#genesys", "genesys", st.genesys, st.genesys_key);
  if (st.traffic !== null) swap("#traffic", "traffic", st.traffic, st.traffic_key);
  const root = $("#modal-root");
  if (!st.modal) {
    root.innerHTML = "";
    S.modalKey = null;
  } else if (st.modal.key !== S.modalKey) {
    const modal = $(".modal", root);
    const kept = modal && modal.dataset.viewId === st.modal.view_id ? collect(modal) : {};
    root.innerHTML = "<div class=\"backdrop\">" + st.modal.html + "</div>";
    restore($(".modal", root), kept);
    S.modalKey = st.modal.key;
  }
}

async function poll() {
  for (;;) {
    const gen = S.gen;
    try {
      const st = await (await fetch(stateUrl(S.version))).json();
      if (gen === S.gen) apply(st);
    } catch (e) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function refresh() {
  S.gen += 1;
  const gen = S.gen;
  const st = await (await fetch(stateUrl(-1))).json();
  if (gen === S.gen) apply(st);
}

// ---------------------------------------------------------------- Block Kit state
function valueOf(el) {
  const k = el.dataset.kind;
  if (k === "plain_text_input") return { type: k, value: el.value === "" ? null : el.value };
  if (k === "users_select") return { type: k, selected_user: el.value || null };
  if (k === "conversations_select") return { type: k, selected_conversation: el.value || null };
  if (k === "static_select") {
    const opt = el.selectedOptions[0];
    return { type: k, selected_option: el.value ? { text: { type: "plain_text", text: opt.textContent }, value: el.value } : null };
  }
  if (k === "external_select") return { type: k, selected_option: el.dataset.selected ? JSON.parse(el.dataset.selected) : null };
  return null;
}

function collect(root) {
  const out = {};
  if (!root) return out;
  root.querySelectorAll("[data-kind][data-block-id]").forEach((el) => {
    const v = valueOf(el);
    if (v) (out[el.dataset.blockId] = out[el.dataset.blockId] || {})[el.dataset.actionId] = v;
  });
  return out;
}

function restore(root, values) {
  if (!root) return;
  root.querySelectorAll("[data-kind][data-block-id]").forEach((el) => {
    const v = (values[el.dataset.blockId] || {})[el.dataset.actionId];
    if (!v) return;
    if (v.type === "plain_text_input" && v.value !== null) el.value = v.value;
    if (v.type === "users_select" && v.selected_user) el.value = v.selected_user;
    if (v.type === "conversations_select" && v.selected_conversation) el.value = v.selected_conversation;
    if (v.type === "static_select" && v.selected_option) el.value = v.selected_option.value;
    if (v.type === "external_select" && v.selected_option) {
      el.dataset.selected = JSON.stringify(v.selected_option);
      $(".typeahead-input", el).value = v.selected_option.text ? v.selected_option.text.text : "";
    }
  });
}

function containerOf(el) {
  const view = el.closest(".modal, .home");
  if (view) return { kind: "view", view_id: view.dataset.viewId };
  const msg = el.closest(".message");
  return { kind: "message", channel: msg.dataset.channel, ts: msg.dataset.ts };
}

function dispatches(el) {
  const block = el.closest(".block");
  return block && (block.classList.contains("actions") || block.dataset.dispatchAction === "true");
}

async function sendAction(el, act) {
  const root = el.closest(".modal, .home");
  await api("action", {
    user: S.user, container: containerOf(el), values: root ? collect(root) : undefined,
    action: Object.assign({ action_id: el.dataset.actionId, block_id: el.dataset.blockId }, act),
  });
}

async function submitView(modal) {
  let missing = false;
  modal.querySelectorAll(".block.input").forEach((block) => {
    const field = block.querySelector("[data-kind]");
    const v = field && valueOf(field);
    const empty = !v || Object.keys(v).filter((k) => k !== "type").every((k) => v[k] === null);
    block.classList.toggle("has-error", empty && block.dataset.optional !== "true");
    if (empty && block.dataset.optional !== "true") missing = true;
  });
  if (missing) { note("Please fill out the required fields."); return; }
  await api("submit", { user: S.user, view_id: modal.dataset.viewId, values: collect(modal) });
  refresh();
}

// ---------------------------------------------------------------- external_select typeahead
async function suggest(box, value) {
  const ul = $(".typeahead-options", box);
  if (value.length < Number(box.dataset.minQueryLength || 0)) { ul.hidden = true; return; }
  const root = box.closest(".modal, .home");
  const res = await api("options", {
    user: S.user, container: containerOf(box), action_id: box.dataset.actionId, block_id: box.dataset.blockId,
    value, values: root ? collect(root) : undefined,
  });
  ul.innerHTML = "";
  for (const o of res.options || []) {
    const li = document.createElement("li");
    li.textContent = o.group ? o.group + " · " + o.text : o.text;
    li.dataset.option = JSON.stringify(o.option);
    li.dataset.label = o.text;
    ul.appendChild(li);
  }
  if (!ul.children.length) ul.innerHTML = "<li class=\"none\">No results</li>";
  ul.hidden = false;
}

// ---------------------------------------------------------------- menus (shortcuts)
function openMenu(anchor, items) {
  const menu = $("#menu");
  menu.innerHTML = "";
  for (const it of items) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "menu-item";
    b.textContent = it.label;
    Object.assign(b.dataset, it.data);
    menu.appendChild(b);
  }
  if (!items.length) menu.innerHTML = "<div class=\"menu-empty\">No shortcuts</div>";
  const r = anchor.getBoundingClientRect();
  menu.style.left = Math.min(r.left, window.innerWidth - 240) + "px";
  menu.style.top = (r.bottom + 4 + 200 > window.innerHeight ? r.top - 8 - 40 * Math.max(1, items.length) : r.bottom + 4) + "px";
  menu.hidden = false;
}

function closeMenu() { $("#menu").hidden = true; }

function shortcutItems(type, extra) {
  return S.config.shortcuts.filter((s) => s.type === type).map((s) => ({
    label: (type === "message" ? "⋯ " : "⚡ ") + s.name,
    data: Object.assign({ kind: "shortcut", callbackId: s.callback_id, type }, extra || {}),
  }));
}

// ---------------------------------------------------------------- events
function bind() {
  $("#composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("#message-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    await api("send", { user: S.user, place: S.place, text });
    refresh();
  });

  document.addEventListener("click", async (ev) => {
    const menuItem = ev.target.closest("#menu .menu-item");
    if (!ev.target.closest("#menu, [data-kind=message-menu], #shortcuts-button")) closeMenu();
    const li = ev.target.closest(".typeahead-options li[data-option]");
    if (li) {
      const box = li.closest(".typeahead");
      box.dataset.selected = li.dataset.option;
      $(".typeahead-input", box).value = li.dataset.label;
      li.parentElement.hidden = true;
      if (dispatches(box)) sendAction(box, valueOf(box));
      return;
    }
    if (menuItem) {
      closeMenu();
      const d = menuItem.dataset;
      await api("shortcut", { user: S.user, callback_id: d.callbackId, type: d.type, channel: d.channel, ts: d.ts });
      refresh();
      return;
    }
    const t = ev.target.closest("[data-user], [data-place], [data-kind], [data-genesys], #shortcuts-button");
    if (!t) return;
    if (t.id === "shortcuts-button") { openMenu(t, shortcutItems("global")); return; }
    if (t.matches(".person")) { setUser(t.dataset.user); return; }
    if (t.matches(".place")) { ev.preventDefault(); setPlace(t.dataset.place); return; }
    if (t.dataset.genesys) {
      await api("genesys", { op: t.dataset.genesys, conversation_id: t.dataset.callId, queue_id: t.dataset.queueId, mode: t.dataset.mode });
      refresh();
      return;
    }
    const kind = t.dataset.kind;
    if (kind === "button") {
      if (t.dataset.url) window.open(t.dataset.url, "_blank", "noopener");
      t.disabled = true;
      await sendAction(t, { type: "button", value: t.dataset.value, text: { type: "plain_text", text: t.textContent } });
      t.disabled = false;
    } else if (kind === "message-menu") {
      const msg = t.closest(".message");
      openMenu(t, shortcutItems("message", { channel: msg.dataset.channel, ts: msg.dataset.ts }));
    } else if (kind === "close-view") {
      await api("close", { user: S.user, view_id: t.closest(".modal").dataset.viewId });
      refresh();
    } else if (kind === "submit-view") {
      await submitView(t.closest(".modal"));
    } else if (kind === "use-call") {
      const input = $("#message-input");
      if (S.place === "home") setPlace("");
      input.value = "/transfer " + t.dataset.callId + " ";
      input.focus();
    }
  });

  document.addEventListener("change", (ev) => {
    const el = ev.target.closest("select[data-kind]");
    if (el && dispatches(el)) sendAction(el, valueOf(el));
  });

  document.addEventListener("input", (ev) => {
    const input = ev.target.closest(".typeahead-input");
    if (!input) return;
    const box = input.closest(".typeahead");
    delete box.dataset.selected;
    clearTimeout(box.timer);
    box.timer = setTimeout(() => suggest(box, input.value), 250);
  });

  document.addEventListener("keydown", (ev) => {
    const el = ev.target.closest("input[data-kind=plain_text_input]");
    if (ev.key === "Enter" && el) {
      ev.preventDefault();
      if (dispatches(el)) sendAction(el, valueOf(el));
    }
    if (ev.key === "Escape") closeMenu();
  });
}

async function init() {
  S.config = await api("config");
  const asked = new URLSearchParams(location.search).get("user");
  const saved = localStorage.getItem("playground.user");
  S.user = person(asked || saved || S.config.people[0].id).id;
  $("#place-channel").textContent = "# " + S.config.channel.name;
  renderPeople();
  renderPlace();
  bind();
  $("#traffic-box").addEventListener("toggle", () => { if ($("#traffic-box").open) refresh(); });
  await refresh();
  poll();
}

init();
