// One incident: everything it holds, and the alerts of its key.
import { get, q } from "../api";
import { badge, facts, h, ipLink, list, num, section, table, time } from "../dom";
import type { Page } from "../page";
import type { Alert, Incident } from "../types";

export const incidentPage: Page = {
  async render({ params, signal }) {
    const id = params[0] ?? "";
    const i = await get<Incident>("/v1/incidents/" + encodeURIComponent(id), signal);
    const key = i.key_type === "ip" ? ipLink(i.key) : i.key;
    const alerts = i.key_type === "ip"
      ? (await get<{ alerts: Alert[] }>("/v1/alerts" + q({ ip: i.key, page_size: 100 }), signal)).alerts ?? []
      : [];
    const mine = alerts.filter((a) => i.alert_ids.includes(a.alert_id));
    return h("div", {},
      h("h1", {}, "Incident ", h("span", { class: "mono" }, i.incident_id)),
      section("Summary", facts([
        ["Key (" + i.key_type + ")", "key", key],
        ["Status", "status", badge(i.status)],
        ["Severity", "severity", badge(i.severity)],
        ["Rules", "rules", i.rules.join(", ")],
        ["Failed attempts", "failed_attempts", num(i.failed_attempts)],
        ["Successful logins", "successful_logins", num(i.successful_logins)],
        ["Alerts", "alert_count", num(i.alert_count)],
        ["Version", "version", num(i.version)],
        ["First event", "first_event_time", time(i.first_event_time)],
        ["Last event", "last_event_time", time(i.last_event_time)],
        ["Opened", "opened_at", time(i.opened_at)],
        ["Updated", "updated_at", time(i.updated_at)],
        ["Users tried", "users_tried", list(i.users_tried, 30)],
        ["Hosts", "hosts", list(i.hosts, 30)],
        ["Source IPs", "ips", h("span", {}, ...(i.ips ?? []).slice(0, 30).flatMap((ip, n) => [n ? ", " : "", ipLink(ip)]))],
      ])),
      section("Alerts of this incident",
        i.key_type === "ip"
          ? table(["Time", "Rule", "Severity", "Count", "Message"], mine.map((a) => [time(a.timestamp), a.rule + (a.seq > 1 ? ` #${a.seq}` : ""), badge(a.severity), num(a.count), a.message]))
          : h("p", { class: "empty" }, "Alert ids: " + list(i.alert_ids, 50))));
  },
};
