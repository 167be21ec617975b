// IP: everything the API knows about one address, and its recent events
// from Elasticsearch when the API has it.
import { ApiError, get, q } from "../api";
import { badge, duration, facts, h, link, list, note, num, section, table, time } from "../dom";
import { optional, type Page } from "../page";
import type { Alert, IPEvent, IPStatus, Incident } from "../types";

export const ipPage: Page = {
  async render({ params, signal }) {
    const ip = decodeURIComponent(params[0] ?? "");
    const input = h("input", { name: "ip", placeholder: "IPv4 or IPv6 address", value: ip, "aria-label": "IP address" }) as HTMLInputElement;
    const form = h("form", { class: "inline", onsubmit: (e: Event) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) location.hash = "#/ip/" + encodeURIComponent(v);
    } }, input, h("button", { type: "submit" }, "Look up"));
    if (!ip) return h("div", {}, h("h1", {}, "IP"), form, note("Type an address, or open one from the Now page."));

    let st: IPStatus;
    try {
      st = await get<IPStatus>("/v1/ips/" + encodeURIComponent(ip), signal);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
        return h("div", {}, h("h1", {}, ip), form, note(e.message, "error"));
      }
      throw e;
    }
    const [alerts, incidents, events] = await Promise.all([
      get<{ alerts: Alert[] }>("/v1/alerts" + q({ ip, page_size: 100 }), signal),
      optional<{ incidents: Incident[] }>("/v1/incidents" + q({ key: ip, page_size: 100 }), signal, "Incidents"),
      optional<{ events: IPEvent[]; total: number; total_at_least: boolean; index: string }>(
        "/v1/ips/" + encodeURIComponent(ip) + "/events" + q({ limit: 50 }), signal, "Events from Elasticsearch"),
    ]);

    return h("div", {},
      h("h1", {}, ip, " ", st.brute_force ? badge("brute force", "high") : ""),
      form,
      section("Counts", facts([
        ["Events", "events", num(st.events)],
        ["Failed attempts", "failures", num(st.failures)],
        ["Successful logins", "successes", num(st.successes)],
        ["Invalid users", "invalid_users", num(st.invalid_users)],
        ["Late events", "late_events", num(st.late_events)],
        ["First seen", "first_seen", time(st.first_seen)],
        ["Last seen", "last_seen", time(st.last_seen)],
        ["Evaluated at", "evaluated_at", time(st.evaluated_at)],
        ["Hosts", "hosts", list(st.hosts, 20)],
        ["Users tried", "users_tried", list(st.users_tried, 20)],
      ])),
      h("div", { class: "grid" },
        section("Per rule window", table(["Rule", "Window", "Failed", "Threshold"],
          (st.windows ?? []).map((w) => [w.rule, duration(w.window_seconds), (w.at_least ? "≥ " : "") + num(w.count), num(w.threshold)]),
          { "data-table": "windows" })),
        section("Days", table(["Day", "Events", "Failed"],
          (st.days ?? []).map((d) => [link("#/days/" + d.metric_date, d.metric_date), num(d.events), num(d.failed)]), { "data-table": "days" })),
      ),
      section("Active alerts", table(["Rule", "Severity", "Seq", "Count", "Episode start", "Last alert"],
        (st.active_alerts ?? []).map((a) => [a.rule, badge(a.severity), num(a.seq), num(a.count), time(a.episode_start), time(a.last_alert)]))),
      section("Incidents", incidents instanceof HTMLElement ? incidents : table(["Last event", "Severity", "Status", "Rules", "Failed", "Logins"],
        (incidents.incidents ?? []).map((i) => [link("#/incident/" + encodeURIComponent(i.incident_id), time(i.last_event_time)),
          badge(i.severity), badge(i.status), i.rules.join(", "), num(i.failed_attempts), num(i.successful_logins)]), { "data-table": "incidents" })),
      section("Alerts", table(["Time", "Rule", "Severity", "Count", "Message"],
        (alerts.alerts ?? []).map((a) => [time(a.timestamp), a.rule + (a.seq > 1 ? ` #${a.seq}` : ""), badge(a.severity), num(a.count), a.message]),
        { "data-table": "alerts" }, [4])),
      section("Recent events (Elasticsearch)", events instanceof HTMLElement ? events : h("div", {},
        note(`${num(events.total)}${events.total_at_least ? "+" : ""} events in ${events.index}; the newest ${events.events.length}:`),
        table(["Event time", "Host", "Type", "User", "Port", "Message"],
          events.events.map((e) => [time(e.event_time), e.host_name, e.event_type, e.user, e.port || "", e.message]), { "data-table": "events" }, [1, 3, 4]))),
    );
  },
};
