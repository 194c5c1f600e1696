// Translations come from Django's JavaScript catalog (console/jsi18n/), loaded before the modules.
export function _(text) {
  return typeof window.gettext === "function" ? window.gettext(text) : text;
}

export function fmt(text, values) {
  if (typeof window.interpolate === "function") return window.interpolate(text, values, true);
  return text.replace(/%\((\w+)\)s/g, (_match, key) => String(values[key]));
}
