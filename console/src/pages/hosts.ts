// Hosts: every host with its state; a host's resources and its SSH
// failures on one time axis.
import { ApiError, get } from "../api";
import { chart } from "../charts";
import { badge, bytes, duration, facts, h, ipLink, link, note, num, pct, section, table, time, ago } from "../dom";
import type { Page } from "../page";
import type { Host } from "../types";

export const hostsPage: Page = {
  refreshSeconds: 5,
  async render({ signal }) {
    let hosts: Host[];
    try {
      hosts = (await get<{ hosts: Host[] }>("/v1/hosts", signal)).hosts ?? [];
    } catch (e) {
      if (e instanceof ApiError && e.code === 12) return h("div", {}, h("h1", {}, "Hosts"), note(e.message, "error"));
      throw e;
    }
    const maxDisk = (x: Host) => Math.max(0, ...(x.filesystems ?? []).map((f) => f.used_pct));
    return h("div", {},
      h("h1", {}, "Hosts"),
      hosts.length === 0 ? note("No host reports yet: run `logmon agent` on a server.") :
        section(`${hosts.length} hosts`, table(["Host", "State", "CPU", "Memory", "Disk (max)", "Load 1", "SSH failed (1 h)", "Last sample"],
          hosts.map((x) => [link("#/hosts/" + encodeURIComponent(x.name), x.name, { "data-host": x.name }), badge(x.state),
            x.last_sample ? pct(x.cpu_norm_pct) : "", x.last_sample ? pct(x.memory_used_pct) : "", x.last_sample ? pct(maxDisk(x)) : "",
            x.last_sample ? x.load_1.toFixed(2) : "", num(x.ssh_failed_last_hour), x.last_sample ? ago(x.last_sample) : "no sample"]),
          { "data-table": "hosts" })));
  },
};

export const hostPage: Page = {
  refreshSeconds: 10,
  async render({ params, signal }) {
    const name = decodeURIComponent(params[0] ?? "");
    const x = await get<Host>("/v1/hosts/" + encodeURIComponent(name), signal);
    const recent = x.recent ?? [];
    const ts = recent.map((p) => Date.parse(p.time) / 1000);
    const minutes = x.ssh_minutes ?? [];
    const ms = minutes.map((m) => Date.parse(m.time) / 1000);
    // One axis for every chart: the samples' span and the SSH minutes'.
    const all = ts.concat(ms);
    const range: [number, number] | undefined = all.length ? [Math.min(...all) - 30, Math.max(...all, Date.now() / 1000) + 30] : undefined;
    const charts = recent.length === 0 ? note("No resource sample yet.") : h("div", { class: "grid" },
      chart({ title: "CPU, memory, disk (max) in use", xs: ts, xRange: range, yMax: 1, series: [
        { label: "CPU", values: recent.map((p) => p.cpu_norm_pct), color: "#5fa8ff", unit: pct },
        { label: "memory", values: recent.map((p) => p.memory_used_pct), color: "#3fb950", unit: pct },
        { label: "disk", values: recent.map((p) => p.disk_max_used_pct), color: "#d29922", unit: pct },
      ] }),
      chart({ title: "Network, all interfaces", xs: ts, xRange: range, series: [
        { label: "in/s", values: recent.map((p, i) => (i ? p.net_in_bytes_per_sec : null)), color: "#a371f7", unit: bytes },
        { label: "out/s", values: recent.map((p, i) => (i ? p.net_out_bytes_per_sec : null)), color: "#f778ba", unit: bytes },
      ] }),
      chart({ title: "SSH failed attempts per minute (this host)", xs: ms.length ? ms : [range ? range[0] : 0], xRange: range, series: [
        { label: "failed", values: ms.length ? minutes.map((m) => m.failed) : [0], color: "#f85149", bars: true, unit: (v) => num(v) },
        { label: "logins", values: ms.length ? minutes.map((m) => m.succeeded) : [0], color: "#3fb950", bars: true, unit: (v) => num(v) },
      ] }),
    );
    return h("div", {},
      h("h1", {}, "Host ", x.name, " ", badge(x.state)),
      section("Now", facts([
        ["State", "state", badge(x.state)],
        ["CPU (normalised)", "cpu_norm_pct", pct(x.cpu_norm_pct)],
        ["Memory in use", "memory_used_pct", pct(x.memory_used_pct)],
        ["Swap in use", "swap_used_pct", pct(x.swap_used_pct)],
        ["Memory", "memory_total", bytes(x.memory_total)],
        ["Cores", "cores", num(x.cores)],
        ["Load 1/5/15", "load", `${x.load_1.toFixed(2)} / ${x.load_5.toFixed(2)} / ${x.load_15.toFixed(2)}`],
        ["Processes", "processes", num(x.processes)],
        ["Uptime", "uptime_seconds", duration(x.uptime_seconds)],
        ["Last sample", "last_sample", time(x.last_sample)],
        ["SSH failed (1 h)", "ssh_failed_last_hour", num(x.ssh_failed_last_hour)],
        ["SSH logins (1 h)", "ssh_succeeded_last_hour", num(x.ssh_succeeded_last_hour)],
      ])),
      section("Resources and SSH on one time axis", charts),
      h("div", { class: "grid" },
        section("Filesystems", table(["Mount", "Type", "Used", "Size"],
          (x.filesystems ?? []).map((f) => [f.mount_point, f.type, pct(f.used_pct), bytes(f.total)]))),
        section("Interfaces", table(["Interface", "In", "Out", "Errors", "Dropped"],
          (x.interfaces ?? []).map((n) => [n.name, bytes(n.in_bytes), bytes(n.out_bytes), num(n.in_errors + n.out_errors), num(n.in_dropped + n.out_dropped)]))),
        section("Top SSH sources (1 h)", table(["IP", "Failed"], (x.ssh_top_source_ips ?? []).map((c) => [ipLink(c.ip), num(c.cnt)]))),
        section("Open episodes", table(["Rule", "Since", "Seq"], (x.episodes ?? []).map((e) => [e.rule, time(e.start), num(e.seq)]))),
      ));
  },
};
