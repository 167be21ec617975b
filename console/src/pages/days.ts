// Days: today or any past day's metrics-daily, its hours, top IPs and
// incidents.
import { get, q } from "../api";
import { chart } from "../charts";
import { facts, h, ipLink, link, note, num, section, table, time } from "../dom";
import { optional, type Page } from "../page";
import type { DailyMetrics, IPCount, Incident, TopIPs } from "../types";

export const daysPage: Page = {
  async render({ params, signal }) {
    const days = (await get<{ days: string[] }>("/v1/metrics/daily", signal)).days ?? [];
    const day = params[0] || days[days.length - 1] || "today";
    const nav = h("div", { class: "days panel" }, h("strong", {}, "Days: "),
      link("#/days/today", "today", { class: day === "today" ? "active" : undefined }),
      ...days.slice().reverse().map((d) => link("#/days/" + d, d, { class: d === day ? "active" : undefined, "data-day": d })));
    const m = await optional<DailyMetrics>("/v1/metrics/daily/" + encodeURIComponent(day), signal, "Metrics of " + day);
    if (m instanceof HTMLElement) return h("div", {}, h("h1", {}, "Day " + day), nav, m);
    const date = m.metric_date;
    const [top, incidents] = await Promise.all([
      optional<TopIPs>("/v1/metrics/daily/" + encodeURIComponent(day) + "/top-ips" + q({ limit: 10 }), signal, "Top IPs"),
      optional<{ incidents: Incident[] }>("/v1/incidents" + q({ day: date, page_size: 200 }), signal, "Incidents"),
    ]);
    const ipTable = (rows: IPCount[], what: string, name: string) =>
      table(["IP", what], rows.map((r) => [ipLink(r.ip), num(r.cnt)]), { "data-table": name });
    const hours = Array.from({ length: 24 }, (_, i) => i);

    return h("div", {},
      h("h1", {}, "Day ", date, m.final ? "" : " (so far)"),
      nav,
      section("metrics-daily", facts([
        ["Date", "metric_date", date],
        ["Total logs", "total_logs", num(m.total_logs)],
        ["Errors", "error_count", num(m.error_count)],
        ["Unique IPs", "unique_ips", num(m.unique_ips)],
        ["Peak hour", "peak_hour", String(m.peak_hour).padStart(2, "0") + ":00"],
        ["Peak hour logs", "peak_hour_logs", num(m.peak_hour_logs)],
        ["Brute-force IPs", "brute_force_ips", num(m.brute_force_ips)],
        ["Final", "final", m.final ? "yes" : "no (the day is still open)"],
        ["Computed at", "created_at", time(m.created_at)],
      ])),
      section("Logs per hour", chart({ title: "logs per hour of " + date, xs: hours, time: false, xRange: [-0.5, 23.5],
        series: [{ label: "logs", values: hours.map((i) => m.hourly_logs?.[i] ?? 0), color: "#5fa8ff", bars: true, unit: (v) => num(v) }] })),
      h("div", { class: "grid" },
        section("Top IPs by events", top instanceof HTMLElement ? top : ipTable(top.by_events ?? [], "Events", "top-events")),
        section("Top IPs by failures", top instanceof HTMLElement ? top : ipTable(top.by_failures ?? [], "Failed", "top-failures")),
        section("Brute-force IPs (top)", ipTable(m.top_brute_list ?? [], "Failed", "top-brute")),
        section("Top IPs (metrics-daily)", ipTable(m.top_ip_list ?? [], "Events", "top-ip-list")),
      ),
      section("Incidents of the day", incidents instanceof HTMLElement ? incidents :
        (incidents.incidents ?? []).length === 0 ? note("No incident ended on this day.") :
          table(["Last event", "Key", "Severity", "Rules", "Failed", "Logins"], incidents.incidents.map((i) => [
            link("#/incident/" + encodeURIComponent(i.incident_id), time(i.last_event_time)),
            i.key_type === "ip" ? ipLink(i.key) : i.key, i.severity, i.rules.join(", "), num(i.failed_attempts), num(i.successful_logins)]),
          { "data-table": "incidents" })),
    );
  },
};
