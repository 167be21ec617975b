package contracts

import "time"

// TopicHeartbeats holds the latest heartbeat of every component instance
// (key Heartbeat.Key()); compacted, so reading it from the start tells who
// runs without a registry of its own. The watchdog keeps its open
// episodes here too, under the key WatchdogStateKey.
const TopicHeartbeats = "logmon-heartbeats"

// WatchdogStateKey is the heartbeats-topic key of the watchdog's open
// self-alert episodes (a restarted watchdog neither repeats nor forgets them).
const WatchdogStateKey = "watchdog/state"

// Pipeline rules: the pipeline's alerts about itself, on ssh-alerts with
// the Alert schema, keyed by Alert.Component, each ended by a recovery alert.
const (
	RulePipelineStalled        = "pipeline_stalled"
	RuleComponentDown          = "component_down"
	RuleElasticsearchUnhealthy = "elasticsearch_unhealthy"
	RuleKafkaUnderReplicated   = "kafka_under_replicated"
)

// Heartbeat is one component instance's sign of life, published every
// interval to TopicHeartbeats. Stopped is set by the last heartbeat of a
// clean shutdown: a stopped instance is not missing.
type Heartbeat struct {
	Component string    `json:"component"`
	Instance  string    `json:"instance"`
	Host      string    `json:"host"`
	Version   string    `json:"version"`
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	Time      time.Time `json:"time"`
	// IntervalSeconds is how often this instance publishes: it is missing
	// after 3 intervals without a heartbeat.
	IntervalSeconds float64 `json:"interval_seconds"`
	// Progress counts the instance's work (lines committed, events
	// processed, documents indexed, mails sent); LastProgress is when it
	// last grew (zero: never).
	Progress     float64   `json:"progress"`
	LastProgress time.Time `json:"last_progress,omitzero"`
	Ready        bool      `json:"ready"`
	Reason       string    `json:"reason,omitempty"`
	Stopped      bool      `json:"stopped,omitempty"`
	// Stats are a few of the instance's own counters that the status shows
	// (mails sent and failed, the last report, hosts by state).
	Stats map[string]float64 `json:"stats,omitempty"`
}

// Key is the heartbeat's Kafka key: "component/instance".
func (h *Heartbeat) Key() string { return h.Component + "/" + h.Instance }

// Stat names carried in Heartbeat.Stats.
const (
	StatMailsSent        = "mails_sent"
	StatMailsFailed      = "mails_failed"
	StatReportsSent      = "reports_sent"
	StatReportsFailed    = "reports_failed"
	StatLastReportDay    = "last_report_day" // Unix seconds of the last reported day
	StatHostsReporting   = "hosts_reporting"
	StatHostsSilent      = "hosts_silent"
	StatHostsWarning     = "hosts_warning"
	StatHostsCritical    = "hosts_critical"
	StatIndexRejected    = "index_rejected"
	StatAgentSpooled     = "agent_spooled"
	StatAgentSpoolDrops  = "agent_dropped"
	StatProcessMisplaced = "process_misplaced"
)

// Status is the health of the whole pipeline at one moment: the answer of
// `logmon status -json` and GET /v1/status.
type Status struct {
	Time time.Time `json:"time"`
	// Healthy is false when anything below is down, stalled or unhealthy;
	// Problems says what, one line each.
	Healthy    bool              `json:"healthy"`
	Problems   []string          `json:"problems,omitempty"`
	Components []ComponentStatus `json:"components"`
	Groups     []GroupStatus     `json:"groups"`
	Kafka      KafkaStatus       `json:"kafka"`
	Elastic    *ElasticStatus    `json:"elasticsearch,omitempty"`
	Alerts     AlertsStatus      `json:"alerts"`
	Mail       MailStatus        `json:"mail"`
	Hosts      HostsStatus       `json:"hosts"`
	Errors     map[string]string `json:"errors,omitempty"`
	Took       time.Duration     `json:"took_ns"`
	// Episodes are the watchdog's open self-alert episodes.
	Episodes []WatchdogEpisode `json:"episodes,omitempty"`
}

// Component states in ComponentStatus.State.
const (
	StateUp      = "up"
	StateGone    = "gone"    // no heartbeat for 3 intervals
	StateStopped = "stopped" // stopped cleanly
)

// ComponentStatus is one component instance as its heartbeats tell it.
type ComponentStatus struct {
	Heartbeat
	State         string  `json:"state"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	// SinceSeconds is the age of the last heartbeat.
	SinceSeconds float64 `json:"since_seconds"`
}

// GroupStatus is one consumer group's lag: committed offsets against the
// topics' end offsets (last stable offsets, for transactional topics).
type GroupStatus struct {
	Group   string `json:"group"`
	State   string `json:"state,omitempty"`
	Members int    `json:"members"`
	Lag     int64  `json:"lag"`
	// Growing: the lag is larger than at the previous look. Stalled: over
	// the whole stall window the lag stayed above zero and grew, or nothing
	// was consumed (known only to a collector that has looked before).
	Growing        bool              `json:"growing"`
	Stalled        bool              `json:"stalled"`
	StalledSeconds float64           `json:"stalled_seconds,omitempty"`
	Partitions     []PartitionStatus `json:"partitions"`
}

// PartitionStatus is one partition's lag in a group. Committed -1: the
// group has not committed this partition yet (it will start from the
// partition's oldest offset, which the lag counts from).
type PartitionStatus struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"`
	End       int64  `json:"end"`
	Lag       int64  `json:"lag"`
}

// KafkaStatus is the cluster as the brokers report it.
type KafkaStatus struct {
	Brokers           []BrokerStatus `json:"brokers"`
	BrokersUp         int            `json:"brokers_up"`
	Controller        int32          `json:"controller"`
	Partitions        int            `json:"partitions"`
	UnderReplicated   []string       `json:"under_replicated,omitempty"` // "topic/partition"
	Offline           []string       `json:"offline,omitempty"`
	UnderReplicatedN  int            `json:"under_replicated_count"`
	OfflineN          int            `json:"offline_count"`
	DeadLetterRecords int64          `json:"dead_letter_records"`
}

// BrokerStatus is one configured broker address.
type BrokerStatus struct {
	Addr  string `json:"addr"`
	ID    int32  `json:"id"`
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
}

// ElasticStatus is the Elasticsearch cluster and the project's indices.
type ElasticStatus struct {
	URL     string        `json:"url"`
	Up      bool          `json:"up"`
	Health  string        `json:"health,omitempty"` // green, yellow, red
	Error   string        `json:"error,omitempty"`
	Indices []IndexStatus `json:"indices,omitempty"`
}

// IndexStatus is one of the contract's indices (all its dated indices).
type IndexStatus struct {
	Name string `json:"name"`
	Docs int64  `json:"docs"`
	// IndexedPerSecond is the indexing rate over the status's sampling
	// window (documents written, replays included).
	IndexedPerSecond float64 `json:"indexed_per_second"`
}

// AlertsStatus is the newest alert on the alert stream.
type AlertsStatus struct {
	Last *Alert `json:"last,omitempty"`
}

// MailStatus sums the notify instances' mail counters.
type MailStatus struct {
	Sent          float64   `json:"sent"`
	Failed        float64   `json:"failed"`
	ReportsSent   float64   `json:"reports_sent"`
	ReportsFailed float64   `json:"reports_failed"`
	LastReportDay time.Time `json:"last_report_day,omitzero"`
}

// HostsStatus sums the host stage's counts of hosts by state.
type HostsStatus struct {
	Reporting int `json:"reporting"`
	Silent    int `json:"silent"`
	Warning   int `json:"warning"`
	Critical  int `json:"critical"`
}

// WatchdogEpisode is one open self-alert episode: a pipeline rule that
// fired for a component and has not recovered.
type WatchdogEpisode struct {
	Rule      string    `json:"rule"`
	Component string    `json:"component"`
	Start     time.Time `json:"start"`
	AlertID   string    `json:"alert_id"`
	Value     float64   `json:"value,omitempty"`
}
