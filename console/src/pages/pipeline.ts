// Pipeline: the health of every component, group, broker and index, from
// GET /v1/status.
import { ApiError, get } from "../api";
import { ago, badge, duration, facts, h, note, num, section, table, time } from "../dom";
import type { Page } from "../page";
import type { Status } from "../types";

export const pipelinePage: Page = {
  refreshSeconds: 5,
  async render({ signal }) {
    let s: Status;
    try {
      s = await get<Status>("/v1/status", signal);
    } catch (e) {
      if (e instanceof ApiError && e.code === 12) return h("div", {}, h("h1", {}, "Pipeline"), note(e.message, "error"));
      throw e;
    }
    const es = s.elasticsearch;
    return h("div", {},
      h("h1", {}, "Pipeline ", s.healthy ? badge("healthy", "ok") : badge("unhealthy", "high")),
      (s.problems ?? []).length ? section("Problems", h("ul", {}, (s.problems ?? []).map((p) => h("li", {}, p)))) : "",
      section("Components", table(["Component", "Instance", "State", "Ready", "Host", "Up for", "Last heartbeat", "Last progress"],
        (s.components ?? []).map((c) => [c.component, c.instance,
          h("span", { "data-component": c.component + "/" + c.instance, "data-state": c.state, "data-down": String(c.state !== "up") }, badge(c.state)),
          c.ready ? "yes" : "no" + (c.reason ? ": " + c.reason : ""), c.host, c.state === "up" ? duration(c.uptime_seconds) : "",
          ago(c.time), c.last_progress ? ago(c.last_progress) : ""]), { "data-table": "components" }, [4, 5, 7])),
      section("Consumer groups", table(["Group", "Members", "Lag", "Trend"],
        (s.groups ?? []).map((g) => [g.group, num(g.members), num(g.lag),
          g.stalled ? badge(`stalled ${duration(g.stalled_seconds ?? 0)}`, "high") : g.growing ? badge("growing", "warning") : badge("ok")]),
        { "data-table": "groups" })),
      h("div", { class: "grid" },
        section("Kafka", facts([
          ["Brokers up", "brokers_up", `${s.kafka.brokers_up} of ${(s.kafka.brokers ?? []).length}`],
          ["Controller", "controller", String(s.kafka.controller)],
          ["Partitions", "partitions", num(s.kafka.partitions)],
          ["Under-replicated", "under_replicated_count", num(s.kafka.under_replicated_count)],
          ["Offline", "offline_count", num(s.kafka.offline_count)],
          ["Dead letters", "dead_letter_records", num(s.kafka.dead_letter_records)],
        ]), table(["Broker", "Id", "State"], (s.kafka.brokers ?? []).map((b) => [b.addr, String(b.id), b.up ? badge("up") : badge("down")]))),
        section("Elasticsearch", !es ? note("Not watched: the API runs without Elasticsearch.") : h("div", {},
          facts([["URL", "es_url", es.url], ["Health", "es_health", es.up ? badge(es.health ?? "?") : badge("down")]]),
          es.error ? note(es.error, "error") : "",
          table(["Index", "Documents", "Indexed/s"], (es.indices ?? []).map((i) => [i.name, num(i.docs), i.indexed_per_second.toFixed(1)])))),
        section("Alerts and mail", facts([
          ["Last alert", "last_alert", s.alerts.last ? `${s.alerts.last.rule} ${time(s.alerts.last.timestamp)}` : "none"],
          ["Mails sent", "mail_sent", num(s.mail.sent)],
          ["Mails failed", "mail_failed", num(s.mail.failed)],
          ["Reports sent", "reports_sent", num(s.mail.reports_sent)],
          ["Reports failed", "reports_failed", num(s.mail.reports_failed)],
          ["Hosts reporting", "hosts_reporting", num(s.hosts.reporting)],
          ["Hosts silent", "hosts_silent", num(s.hosts.silent)],
        ])),
        section("Open self-alerts", table(["Rule", "Component", "Since"], (s.episodes ?? []).map((e) => [e.rule, e.component, time(e.start)]))),
      ),
      s.errors && Object.keys(s.errors).length ? section("Could not look at", table(["What", "Error"], Object.entries(s.errors))) : "",
      note("As of " + time(s.time) + "; refreshed every 5 s."));
  },
};
