package contracts

import "time"

// DailyTopN is the length of the metrics' top lists (top_ip_list,
// top_brute_list).
const DailyTopN = 3

// DailyBruteForceMark is the daily metric's threshold: an IP with at least
// this many failed attempts in a day counts in brute_force_ips.
const DailyBruteForceMark = 10

// IPCount is one entry of a top list.
type IPCount struct {
	IP  string `json:"ip"`
	Cnt int64  `json:"cnt"`
}

// DailyMetrics is a metrics-daily document: the value of the Kafka topic
// metrics-daily and the document of the Elasticsearch index metrics-daily
// (docs/contracts.md, "metrics-daily"). The Elasticsearch _id and the Kafka
// key are MetricDate.
type DailyMetrics struct {
	MetricDate    string    `json:"metric_date"`
	TotalLogs     int64     `json:"total_logs"`
	ErrorCount    int64     `json:"error_count"`
	UniqueIPs     int64     `json:"unique_ips"`
	PeakHour      int       `json:"peak_hour"`
	PeakHourLogs  int64     `json:"peak_hour_logs"`
	TopIPList     []IPCount `json:"top_ip_list"`
	BruteForceIPs int64     `json:"brute_force_ips"`
	TopBruteList  []IPCount `json:"top_brute_list"`
	HourlyLogs    []int64   `json:"hourly_logs"`
	CreatedAt     time.Time `json:"created_at"`
	// Final is true once the day is closed (its events are all in).
	Final bool `json:"final"`
}
