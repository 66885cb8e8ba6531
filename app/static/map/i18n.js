// Texts of the werkbank: every label comes from the message catalogue (GET api/v1/texts).
// Dutch by default; ?lang=en switches to English (API answers follow via Accept-Language).

export const LANG = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "nl";
let TEXTS = {};

// The catalogue text of key with {named} placeholders filled in (the key itself if absent).
export function T(key, params) {
  const text = TEXTS[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    const value = params ? params[name] : undefined;
    return value === undefined || value === null ? "" : String(value);
  });
}

// T with the singular entry (key + ".one") when n is 1, as texts.t does on the server.
export function Tn(key, n, params) {
  const one = key + ".one";
  return T(n === 1 && TEXTS[one] !== undefined ? one : key, Object.assign({ n: n }, params));
}

export function applyTexts(root) {
  document.documentElement.lang = LANG;
  const scope = root || document;
  scope.querySelectorAll("[data-t]").forEach((node) => { node.textContent = T(node.dataset.t); });
  scope.querySelectorAll("[data-t-title]").forEach((node) => { node.title = T(node.dataset.tTitle); });
  scope.querySelectorAll("[data-t-placeholder]").forEach((node) => {
    node.placeholder = T(node.dataset.tPlaceholder);
  });
  scope.querySelectorAll("[data-t-aria-label]").forEach((node) => {
    node.setAttribute("aria-label", T(node.dataset.tAriaLabel));
  });
}

export function loadTexts() {
  return fetch("api/v1/texts?lang=" + LANG, { headers: { Accept: "application/json" } })
    .then((res) => res.json())
    .then((body) => { TEXTS = body.texts || {}; applyTexts(); });
}

export function decimal(value, digits) {
  const text = Number(value).toFixed(digits);
  return LANG === "nl" ? text.replace(".", ",") : text;
}

export function km(value) {
  return value === null || value === undefined ? "?" : String(Math.round(Number(value)));
}

// The page's address in the other language, keeping run, group and the rest.
export function urlInLanguage(lang) {
  const params = new URLSearchParams(location.search);
  if (lang === "nl") params.delete("lang");
  else params.set("lang", lang);
  const query = params.toString();
  return location.pathname + (query ? "?" + query : "");
}
