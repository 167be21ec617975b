package contracts

// The Kafka topics of the contract (docs/contracts.md, "Kafka topics").
// Other systems consume and produce them by these names.
const (
	TopicSSHLog        = "ssh-log"        // parsed log lines (Event), key row_hash
	TopicSSHAlerts     = "ssh-alerts"     // alerts (Alert), key Alert.Key
	TopicMetricsDaily  = "metrics-daily"  // daily documents (DailyMetrics), key metric_date; compacted
	TopicSystemMetrics = "system-metrics" // host samples (HostSample), key host name
	// TopicSSHLogDLQ is the project's own dead-letter topic: records
	// Elasticsearch rejected, with the reason.
	TopicSSHLogDLQ = "ssh-log-dlq"
	// TopicIngestPositions holds, per ingest instance and file, how far the
	// file is in ssh-log: written in the same transaction as the lines
	// (connectors/ingest, docs/ingest.md); compacted.
	TopicIngestPositions = "ingest-positions"
)

// The Elasticsearch indices of the contract (docs/contracts.md): Kibana's
// data views point at them. With a daily or monthly index layout they are
// aliases over the dated indices.
const (
	IndexSSHLog       = "ssh-log"
	IndexSSHAlerts    = "ssh-alerts"
	IndexMetricsDaily = "metrics-daily"
	// IndexSystemMetrics holds Metricbeat-shaped documents, one per
	// metricset per sample (docs/contracts.md, "system-metrics").
	IndexSystemMetrics = "system-metrics"
)

// Fields that identify documents: the Elasticsearch _id of each index is
// the value of its id field, so a record delivered twice is one document.
const (
	FieldRowHash    = "row_hash"    // ssh-log's id
	FieldAlertID    = "alert_id"    // ssh-alerts' id
	FieldMetricDate = "metric_date" // metrics-daily's id
)
