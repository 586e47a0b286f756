// The intake page: asks /v1/ask for the next question until none is left, then shows the answer.
// Every answer is kept here and sent again with each request; the server keeps nothing.
"use strict";

const state = { lang: "en", answers: [], policy: "", last: null, strings: {}, countries: {}, names: new Map() };
const COUNTRY_KINDS = new Set(["country", "countries", "stops"]); // answers that name countries
const $ = (id) => document.getElementById(id);

function t(key, values) {
  let text = (state.strings[state.lang] || {})[key] || key;
  for (const [name, value] of Object.entries(values || {})) text = text.replace("{" + name + "}", value);
  return text;
}

function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "es") return asked;
  const kept = localStorage.getItem("eligibility.lang");
  if (kept === "en" || kept === "es") return kept;
  return (navigator.language || "en").toLowerCase().startsWith("es") ? "es" : "en";
}

function showTexts() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
  for (const button of document.querySelectorAll("button.lang")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(t("network_error"));
  }
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try {
      const data = await response.json();
      message = data.errors.map((e) => e.message).join("; ");
    } catch (err) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response;
}

let latest = 0; // the last request sent: an older one's answer is never shown over it

async function step(finish) {
  const mine = ++latest;
  showError("");
  $("status").textContent = t("loading");
  document.body.setAttribute("aria-busy", "true");
  try {
    const answers = state.answers.map((a) => ({ field: a.field, answer: a.answer }));
    const body = { answers, lang: state.lang, finish: Boolean(finish) };
    if (state.policy) body.policy = state.policy;
    const data = await (await post("/v1/ask", body)).json();
    if (mine !== latest) return;
    state.last = data;
    if (data.question) showQuestion(data.question);
    else showResult(data);
  } catch (err) {
    if (mine !== latest) return;
    if (err.status === 422 && state.answers.length) {
      state.answers.pop(); // the answer just given was refused: ask it again, with the reason
    }
    showError(err.status === 422 ? err.message : t("server_error", { message: err.message }));
  } finally {
    if (mine === latest) {
      $("status").textContent = "";
      document.body.removeAttribute("aria-busy");
    }
  }
}

function showGiven() {
  const list = $("given");
  list.replaceChildren();
  for (const given of state.answers) {
    const item = document.createElement("li");
    const question = document.createElement("span");
    question.className = "q";
    question.textContent = (given.text || given.field) + ": ";
    const answer = document.createElement("strong");
    answer.textContent = given.shown || (given.answer === "" ? t("unknown") : given.answer);
    item.append(question, answer);
    list.append(item);
  }
  $("given-box").hidden = state.answers.length === 0;
}

function rendered() {
  // counts the questions and answers shown: a test (or a screen reader script) waits for the next one
  document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
}

function showQuestion(q) {
  $("result").hidden = true;
  $("ask").hidden = false;
  $("counter").textContent = t("question_n", { n: state.answers.length + 1 });
  const field = $("field");
  field.replaceChildren();
  field.dataset.field = q.field;
  field.dataset.text = q.text;
  field.dataset.kind = q.kind;
  let focus;
  if (q.options.length) {
    const set = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = q.text;
    set.append(legend);
    q.options.forEach((option, index) => {
      const id = "option-" + index;
      const input = Object.assign(document.createElement("input"), { type: "radio", name: "answer", id, value: option.value });
      const label = Object.assign(document.createElement("label"), { htmlFor: id, className: "option" });
      label.append(input, document.createTextNode(" " + option.label));
      set.append(label);
      if (index === 0) focus = input;
    });
    field.append(set);
  } else {
    const label = Object.assign(document.createElement("label"), { htmlFor: "answer", className: "question" });
    label.textContent = q.text;
    const input = Object.assign(document.createElement("input"), { id: "answer", name: "answer", autocomplete: "off" });
    if (q.kind === "number") Object.assign(input, { type: "number", min: "0", max: "130", inputMode: "numeric" });
    else input.type = "text";
    if (q.kind === "date") input.placeholder = "YYYY-MM-DD";
    if (COUNTRY_KINDS.has(q.kind)) input.setAttribute("list", "country-names");
    const key = ["hint_" + q.field, "hint_" + q.kind].find((k) => t(k) !== k);
    const hint = key ? t(key) : "";
    field.append(label);
    if (hint) {
      const help = Object.assign(document.createElement("p"), { id: "hint", className: "hint", textContent: hint });
      input.setAttribute("aria-describedby", "hint");
      field.append(help);
    }
    field.append(input);
    focus = input;
  }
  $("back").disabled = state.answers.length === 0;
  $("finish").hidden = !state.answers.some((a) => a.field === "entry.date");
  showGiven();
  if (focus) focus.focus();
  rendered();
}

function showResult(data) {
  $("ask").hidden = true;
  $("result").hidden = false;
  const summary = data.summary;
  const headline = $("headline");
  headline.textContent = summary.headline;
  headline.className = "outcome-" + data.record.outcome;
  $("evidence").textContent = t("evidence") + " " + summary.evidence;
  const caveats = $("caveats");
  caveats.replaceChildren(...summary.caveats.map((c) => Object.assign(document.createElement("li"), { textContent: c })));
  $("caveats-box").hidden = summary.caveats.length === 0;
  // the short answer as `eligibility check` prints it, but for its first line (the headline, shown above)
  $("short").textContent = summary.text.split("\n").slice(1).join("\n").replace(/^\n+/, "");
  $("back2").disabled = state.answers.length === 0;
  showGiven();
  headline.focus();
  rendered();
}

function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim().toLowerCase();
}

async function loadCountries() {
  // names in both languages lead to the code: "México", "Mexico" and "MX" are one answer
  for (const lang of ["en", "es"]) {
    if (state.countries[lang]) continue;
    try {
      state.countries[lang] = await (await fetch("/v1/countries?lang=" + lang)).json();
      for (const c of state.countries[lang]) state.names.set(fold(c.name), c.code);
    } catch (err) { /* names are then sent as typed, and the server says which it does not know */ }
  }
  const list = $("country-names");
  list.replaceChildren(...(state.countries[state.lang] || []).map(
    (c) => Object.assign(document.createElement("option"), { value: c.name })));
}

function countryCodes(text) {
  // "Guatemala, México:denied_final" -> "GT, MX:denied_final"; codes and other words stay as typed
  return text.split(",").map((part) => {
    const [name, ...rest] = part.split(":");
    const code = state.names.get(fold(name));
    return code ? [code, ...rest].join(":") : part.trim();
  }).join(", ");
}

function answer(text, shown) {
  if (document.body.getAttribute("aria-busy") === "true") return; // one answer a question (no double click)
  const field = $("field");
  state.answers.push({ field: field.dataset.field, answer: text, text: field.dataset.text, shown });
  step(false);
}

function submitted(event) {
  event.preventDefault();
  const chosen = document.querySelector("#field input[type=radio]:checked");
  if (chosen) {
    answer(chosen.value, chosen.parentElement.textContent.trim());
    return;
  }
  const input = $("answer");
  const text = input ? input.value.trim() : "";
  if (!text) {
    showError(t("empty"));
    if (input) input.focus();
    return;
  }
  answer(COUNTRY_KINDS.has($("field").dataset.kind) ? countryCodes(text) : text, text);
}

function download(name, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function fileName(record, kind) {
  const base = (record.id || record.dates.entry || "case").replace(/[^A-Za-z0-9._-]/g, "_");
  return kind + "-" + base + "-" + record.lang;
}

async function downloadMemo() {
  const record = state.last && state.last.record;
  if (!record) return;
  try {
    const response = await post("/v1/memo?format=html", record);
    download(fileName(record, "memo") + ".html", "text/html", await response.text());
  } catch (err) {
    showError(t("server_error", { message: err.message }));
  }
}

function downloadRecord() {
  const record = state.last && state.last.record;
  if (record) download(fileName(record, "record") + ".json", "application/json", JSON.stringify(record, null, 2) + "\n");
}

async function loadPolicies() {
  try {
    const response = await fetch("/v1/policies?lang=" + state.lang);
    const policies = await response.json();
    const select = $("policy");
    select.replaceChildren(...policies.map((p) => {
      const option = Object.assign(document.createElement("option"), { value: p.id, textContent: p.title + " (" + p.id + ")" });
      option.selected = state.policy ? p.id === state.policy : p.default;
      return option;
    }));
  } catch (err) { /* the settings stay empty; the default policy is used */ }
}

async function start() {
  state.lang = chooseLanguage();
  state.strings = await (await fetch("/static/strings.json")).json();
  showTexts();
  $("question").addEventListener("submit", submitted);
  $("dontknow").addEventListener("click", () => answer("", ""));
  const back = () => { state.answers.pop(); step(false); };
  $("back").addEventListener("click", back);
  $("back2").addEventListener("click", back);
  $("finish").addEventListener("click", () => step(true));
  $("restart").addEventListener("click", () => { state.answers = []; step(false); });
  $("memo").addEventListener("click", downloadMemo);
  $("record").addEventListener("click", downloadRecord);
  $("policy").addEventListener("change", (event) => { state.policy = event.target.value; step(false); });
  for (const button of document.querySelectorAll("button.lang")) {
    button.addEventListener("click", () => {
      state.lang = button.dataset.lang;
      localStorage.setItem("eligibility.lang", state.lang);
      showTexts();
      loadPolicies();
      loadCountries();
      step(false);
    });
  }
  loadPolicies();
  loadCountries();
  step(false);
}

document.addEventListener("DOMContentLoaded", start);
