// The console's shell: navigation, routing by the URL's fragment, the
// connection banner (API unreachable: say so and retry), the token prompt.
import "./style.css";
import { ApiError, Unreachable, onConnection, setToken, token } from "./api";
import { disposeCharts } from "./charts";
import { h, note } from "./dom";
import type { Page } from "./page";
import { daysPage } from "./pages/days";
import { hostPage, hostsPage } from "./pages/hosts";
import { incidentPage } from "./pages/incident";
import { ipPage } from "./pages/ip";
import { nowPage } from "./pages/now";
import { pipelinePage } from "./pages/pipeline";

const routes: Record<string, Page> = {
  now: nowPage,
  ip: ipPage,
  days: daysPage,
  hosts: hostsPage,
  host: hostPage,
  incident: incidentPage,
  pipeline: pipelinePage,
};
const navItems: [string, string][] = [["now", "Now"], ["ip", "IP"], ["days", "Days"], ["hosts", "Hosts"], ["pipeline", "Pipeline"]];

const app = document.getElementById("app")!;
const banner = h("p", { class: "banner", hidden: true, role: "status", "data-banner": "" });
const conn = h("span", { class: "conn" });
const nav = h("nav", {}, navItems.map(([id, label]) => h("a", { href: "#/" + id, "data-nav": id }, label)));
const main = h("main", {});
app.replaceChildren(h("header", { class: "top" }, h("span", { class: "brand" }, "log_monitor"), nav, conn), banner, main);

let current: AbortController | undefined;
let timer: number | undefined;
let retryIn = 2;
// The route on screen: a new route shows "Loading" at once; a refresh of
// the same route keeps the old content until the new one is ready.
let shown = "";

function route(): { name: string; params: string[] } {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  let name = parts[0] || "now";
  // #/hosts/<name> is a host's page.
  if (name === "hosts" && parts.length > 1) name = "host";
  return { name: routes[name] ? name : "now", params: parts.slice(1) };
}

async function render(): Promise<void> {
  current?.abort();
  clearTimeout(timer);
  const ctl = new AbortController();
  current = ctl;
  const { name, params } = route();
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.nav === (name === "host" ? "hosts" : name === "incident" ? "now" : name));
  const page = routes[name];
  if (location.hash !== shown) {
    shown = location.hash;
    disposeCharts();
    main.replaceChildren(h("p", { class: "loading", "data-loading": name }, "Loading…"));
  }
  try {
    const el = await page.render({ params, signal: ctl.signal });
    if (ctl.signal.aborted) return;
    disposeCharts();
    el.dataset.page = name;
    main.replaceChildren(el);
    retryIn = 2;
    if (page.refreshSeconds) timer = window.setTimeout(() => void render(), page.refreshSeconds * 1000);
  } catch (e) {
    if (ctl.signal.aborted) return;
    if (e instanceof Unreachable) {
      // Keep what is shown; say so and try again, less often each time.
      showUnreachable(e.message, retryIn);
      timer = window.setTimeout(() => void render(), retryIn * 1000);
      retryIn = Math.min(retryIn * 2, 30);
      return;
    }
    if (e instanceof ApiError && e.status === 401) {
      askToken(token() !== "");
      return;
    }
    main.replaceChildren(h("div", { "data-page": name }, h("h1", {}, "Error"), note(e instanceof Error ? e.message : String(e), "error")));
  }
}

function showUnreachable(msg: string, secs: number): void {
  banner.hidden = false;
  banner.className = "banner unreachable";
  banner.dataset.banner = "unreachable";
  banner.textContent = `The API at ${location.host} does not answer (${msg.replace(/^the API does not answer:?\s*/, "")}). Retrying in ${secs} s…`;
}

onConnection((c) => {
  conn.textContent = c === "ok" ? "API connected" + (token() ? " (token)" : "") : c === "unreachable" ? "API unreachable" : "token required";
  conn.dataset.conn = c;
  if (c === "ok" && !banner.hidden) {
    banner.hidden = true;
    banner.dataset.banner = "";
  }
});

function askToken(wrong: boolean): void {
  if (document.querySelector(".modal")) return;
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password", placeholder: "API token", "aria-label": "API token" }) as HTMLInputElement;
  const modal = h("div", { class: "modal", "data-token-prompt": "" },
    h("form", { onsubmit: (e: Event) => {
      e.preventDefault();
      setToken(input.value.trim());
      modal.remove();
      void render();
    } },
    h("strong", {}, "This API requires a token"),
    h("span", { class: "note" }, wrong ? "The token kept in this browser was refused." : "Its operator set API_TOKEN. The token stays in this browser."),
    input,
    h("button", { type: "submit" }, "Use this token")));
  document.body.append(modal);
  input.focus();
}

window.addEventListener("hashchange", () => void render());
// Leaving the page (another site, a reload) ends its streams: a page kept
// in the back-forward cache would otherwise hold their connections, and a
// browser opens only 6 HTTP/1.1 connections per host. Coming back renders
// again.
window.addEventListener("pagehide", () => {
  current?.abort();
  clearTimeout(timer);
});
window.addEventListener("pageshow", (e) => {
  if (e.persisted) void render();
});
void render();
