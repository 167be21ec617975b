// Small DOM helpers: elements are built, never parsed from strings, so
// nothing the logs contain can become markup.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function link(href: string, text: string, attrs: Attrs = {}): HTMLElement {
  return h("a", { href, ...attrs }, text);
}

export function ipLink(ip: string): HTMLElement {
  return link("#/ip/" + encodeURIComponent(ip), ip, { "data-ip": ip });
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/**
 * A table; cells that are nodes go in as they are. The columns in narrow
 * (by index) are left out on a phone's width.
 */
export function table(head: string[], rows: Child[][], attrs: Attrs = {}, narrow: number[] = []): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, "None.");
  const cls = (i: number) => (narrow.includes(i) ? "hide-narrow" : undefined);
  return h("div", { class: "table-wrap" },
    h("table", attrs,
      h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { class: cls(i) }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: cls(i) }, c)))))));
}

/** Label/value pairs; each value carries data-field for the tests. */
export function facts(pairs: [string, string, Child][]): HTMLElement {
  return h("dl", { class: "facts" }, pairs.map(([label, field, value]) =>
    h("div", {}, h("dt", {}, label), h("dd", { "data-field": field }, value))));
}

export function badge(text: string, kind = text): HTMLElement {
  return h("span", { class: "badge badge-" + kind.replace(/[^a-z_-]/gi, "") }, text);
}

export function note(text: string, kind = "info"): HTMLElement {
  return h("p", { class: "note note-" + kind }, text);
}

export function num(n: number | undefined): string {
  return (n ?? 0).toLocaleString("en-US");
}

export function pct(f: number | undefined): string {
  return ((f ?? 0) * 100).toFixed(1) + "%";
}

export function bytes(n: number | undefined): string {
  let v = n ?? 0;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
}

/** An RFC 3339 time as YYYY-MM-DD HH:MM:SS in UTC ("" stays ""). */
export function time(s: string | undefined): string {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d.getTime())) return s;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC");
}

export function ago(s: string | undefined): string {
  if (!s) return "never";
  const secs = Math.round((Date.now() - new Date(s).getTime()) / 1000);
  return duration(secs) + " ago";
}

export function duration(secs: number): string {
  secs = Math.max(0, Math.round(secs));
  if (secs < 120) return secs + " s";
  if (secs < 7200) return Math.round(secs / 60) + " min";
  if (secs < 172800) return Math.round(secs / 3600) + " h";
  return Math.round(secs / 86400) + " d";
}

export function list(xs: string[] | undefined, max = 8): string {
  if (!xs || xs.length === 0) return "";
  return xs.length <= max ? xs.join(", ") : xs.slice(0, max).join(", ") + ` … (+${xs.length - max})`;
}
