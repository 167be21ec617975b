// The REST answers the console reads (proto field names, see /openapi.json).

export interface Alert {
  timestamp: string;
  alert_id: string;
  rule: string;
  severity: string;
  seq: number;
  ip: string;
  user: string;
  hosts: string[];
  users: string[];
  count: number;
  first_event_time: string;
  last_event_time: string;
  message: string;
}

export interface AlertEvent {
  alert?: Alert;
  cursor: string;
}

export interface Incident {
  incident_id: string;
  key: string;
  key_type: string;
  status: string;
  version: number;
  severity: string;
  rules: string[];
  alert_ids: string[];
  alert_count: number;
  failed_attempts: number;
  users_tried: string[];
  hosts: string[];
  ips: string[];
  successful_logins: number;
  first_event_time: string;
  last_event_time: string;
  opened_at: string;
  updated_at: string;
}

export interface WindowCount {
  rule: string;
  window_seconds: number;
  threshold: number;
  count: number;
  at_least: boolean;
}

export interface IPStatus {
  ip: string;
  first_seen: string;
  last_seen: string;
  evaluated_at: string;
  events: number;
  failures: number;
  successes: number;
  invalid_users: number;
  late_events: number;
  hosts: string[];
  users_tried: string[];
  invalid_user_names: string[];
  windows: WindowCount[];
  brute_force: boolean;
  active_alerts: { alert_id: string; rule: string; severity: string; seq: number; count: number; episode_start: string; last_alert: string }[];
  days: { metric_date: string; events: number; failed: number }[];
}

export interface IPEvent {
  event_time: string;
  host_name: string;
  event_type: string;
  user: string;
  port: number;
  log_level: string;
  message: string;
}

export interface IPCount {
  ip: string;
  cnt: number;
}

export interface DailyMetrics {
  metric_date: string;
  total_logs: number;
  error_count: number;
  unique_ips: number;
  peak_hour: number;
  peak_hour_logs: number;
  top_ip_list: IPCount[];
  brute_force_ips: number;
  top_brute_list: IPCount[];
  hourly_logs: number[];
  created_at: string;
  final: boolean;
}

export interface TopIPs {
  by_events: IPCount[];
  by_failures: IPCount[];
  complete: boolean;
}

export interface Host {
  name: string;
  state: string;
  last_sample: string;
  interval_seconds: number;
  cores: number;
  cpu_norm_pct: number;
  memory_used_pct: number;
  swap_used_pct: number;
  memory_total: number;
  load_1: number;
  load_5: number;
  load_15: number;
  uptime_seconds: number;
  processes: number;
  filesystems: { mount_point: string; device: string; type: string; total: number; used: number; used_pct: number }[];
  interfaces: { name: string; in_bytes: number; out_bytes: number; in_errors: number; out_errors: number; in_dropped: number; out_dropped: number }[];
  episodes: { rule: string; start: string; seq: number }[];
  ssh_failed_last_hour: number;
  ssh_succeeded_last_hour: number;
  ssh_top_source_ips: IPCount[];
  recent: { time: string; cpu_norm_pct: number; memory_used_pct: number; disk_max_used_pct: number; load_1: number; net_in_bytes_per_sec: number; net_out_bytes_per_sec: number }[];
  ssh_minutes: { time: string; failed: number; succeeded: number }[];
}

export interface ComponentStatus {
  component: string;
  instance: string;
  host: string;
  version: string;
  started: string;
  time: string;
  interval_seconds: number;
  last_progress?: string;
  ready: boolean;
  reason?: string;
  state: string;
  uptime_seconds: number;
  since_seconds: number;
}

export interface GroupStatus {
  group: string;
  state?: string;
  members: number;
  lag: number;
  growing: boolean;
  stalled: boolean;
  stalled_seconds?: number;
}

export interface Status {
  time: string;
  healthy: boolean;
  problems?: string[];
  components: ComponentStatus[] | null;
  groups: GroupStatus[] | null;
  kafka: {
    brokers: { addr: string; id: number; up: boolean; error?: string }[] | null;
    brokers_up: number;
    controller: number;
    partitions: number;
    under_replicated_count: number;
    offline_count: number;
    dead_letter_records: number;
  };
  elasticsearch?: { url: string; up: boolean; health?: string; error?: string; indices?: { name: string; docs: number; indexed_per_second: number }[] };
  alerts: { last?: { timestamp: string; rule: string; ip?: string; message?: string } };
  mail: { sent: number; failed: number; reports_sent: number; reports_failed: number; last_report_day?: string };
  hosts: { reporting: number; silent: number; warning: number; critical: number };
  errors?: Record<string, string>;
  episodes?: { rule: string; component: string; start: string }[];
}
