// Now: live incidents and alerts, newest first, streamed without reloads.
import { follow, get, q } from "../api";
import { badge, h, ipLink, link, list, num, section, time } from "../dom";
import { optional, type Page } from "../page";
import type { Alert, AlertEvent, Incident } from "../types";

const keep = 200;

export const nowPage: Page = {
  async render({ signal }) {
    const [incidents, alerts] = await Promise.all([
      optional<{ incidents: Incident[] }>("/v1/incidents" + q({ page_size: 50 }), signal, "Incidents"),
      get<{ alerts: Alert[] }>("/v1/alerts" + q({ page_size: 50 }), signal),
    ]);
    const live = h("span", { class: "live off", "data-live": "off" }, "connecting");
    const setLive = (on: boolean) => {
      live.className = "live " + (on ? "on" : "off");
      live.dataset.live = on ? "on" : "off";
      live.textContent = on ? "live" : "reconnecting";
    };

    const alertBody = h("tbody", {});
    for (const a of alerts.alerts ?? []) alertBody.append(alertRow(a, false));
    const alertTable = h("div", { class: "table-wrap" }, h("table", { "data-table": "alerts" },
      h("thead", {}, h("tr", {}, ["Last event", "Severity", "Rule", "Key", "Users", "Hosts", "Count", "Message"].map((c, i) =>
        h("th", { class: i >= 5 ? "hide-narrow" : undefined }, c)))),
      alertBody));

    let incidentPanel: HTMLElement;
    const incidentBody = h("tbody", {});
    if (incidents instanceof HTMLElement) {
      incidentPanel = section("Incidents", incidents);
    } else {
      for (const i of incidents.incidents ?? []) incidentBody.append(incidentRow(i, false));
      incidentPanel = section("Incidents", h("div", { class: "table-wrap" }, h("table", { "data-table": "incidents" },
        h("thead", {}, h("tr", {}, ["Last event", "Severity", "Status", "Rules", "Key", "Users tried", "Failed", "Logins", "Alerts"].map((c, i) =>
          h("th", { class: i >= 5 && i !== 6 ? "hide-narrow" : undefined }, c)))),
        incidentBody)));
      void follow<Incident>(() => "/v1/incidents:watch", (i) => {
        incidentBody.querySelector(`tr[data-incident-id="${CSS.escape(i.incident_id)}"]`)?.remove();
        incidentBody.prepend(incidentRow(i, true));
        trim(incidentBody);
      }, setLive, signal);
    }

    let cursor = "";
    void follow<AlertEvent>(() => "/v1/alerts/watch" + q({ cursor }), (ev) => {
      cursor = ev.cursor || cursor;
      if (!ev.alert) return;
      if (alertBody.querySelector(`tr[data-alert-id="${CSS.escape(ev.alert.alert_id)}"]`)) return;
      alertBody.prepend(alertRow(ev.alert, true));
      trim(alertBody);
    }, setLive, signal);

    return h("div", {},
      h("h1", {}, "Now ", live),
      incidentPanel,
      section("Alerts", alertTable));
  },
};

function trim(body: HTMLElement): void {
  while (body.children.length > keep) body.lastElementChild?.remove();
}

function keyCell(key: string, type: string): HTMLElement | string {
  return type === "ip" ? ipLink(key) : key;
}

function alertRow(a: Alert, fresh: boolean): HTMLElement {
  const key = a.ip ? ipLink(a.ip) : a.user || "";
  return h("tr", { "data-alert-id": a.alert_id, "data-rule": a.rule, class: fresh ? "fresh" : undefined },
    h("td", {}, time(a.last_event_time || a.timestamp)),
    h("td", {}, badge(a.severity)),
    h("td", {}, a.rule + (a.seq > 1 ? ` #${a.seq}` : "")),
    h("td", {}, key),
    h("td", {}, list(a.users, 4)),
    h("td", { class: "hide-narrow" }, list(a.hosts, 3)),
    h("td", { class: "hide-narrow" }, num(a.count)),
    h("td", { class: "hide-narrow" }, a.message));
}

function incidentRow(i: Incident, fresh: boolean): HTMLElement {
  return h("tr", { "data-incident-id": i.incident_id, class: fresh ? "fresh" : undefined },
    h("td", {}, link("#/incident/" + encodeURIComponent(i.incident_id), time(i.last_event_time))),
    h("td", {}, badge(i.severity)),
    h("td", {}, badge(i.status)),
    h("td", {}, i.rules.join(", ")),
    h("td", {}, keyCell(i.key, i.key_type)),
    h("td", { class: "hide-narrow" }, list(i.users_tried, 4)),
    h("td", {}, num(i.failed_attempts)),
    h("td", { class: "hide-narrow" }, num(i.successful_logins)),
    h("td", { class: "hide-narrow" }, num(i.alert_count)));
}
