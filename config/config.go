// Package config holds every setting of log_monitor and its default, in one
// place. A setting is read from its environment variable first, then from
// its command-line flag (flags win), so the same binary runs unchanged under
// docker-compose (environment) and by hand (flags).
//
// Nothing else in the project hard-codes a broker address, a topic's
// replication, an index URL or an SMTP setting: it takes them from here.
package config

import (
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"time"
)

// Local stack addresses: what `logmon stack up` starts and what every
// component uses when nothing else is configured.
const (
	LocalKafkaBrokers  = "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
	LocalElasticsearch = "http://127.0.0.1:9200"
	LocalSMTPHost      = "127.0.0.1"
	LocalSMTPPort      = 1025
)

// DefaultMemoryLimit is the soft memory limit of a command
// (runtime/debug.SetMemoryLimit) unless the Go runtime's own GOMEMLIMIT
// says otherwise; MemoryLimits holds the commands that need another. The
// garbage collector otherwise lets the heap grow to twice what is live,
// and a replay's peaks then double the process's memory.
const DefaultMemoryLimit = 256 << 20

// MemoryLimits are the commands' soft memory limits that differ from
// DefaultMemoryLimit: `logmon process` lives in about 150 MiB of heap at a
// replay's peak, `logmon all` also holds the API's views and the
// Elasticsearch bulk buffers.
var MemoryLimits = map[string]int64{"process": 224 << 20, "all": 448 << 20}

// MemoryLimit is command's soft memory limit.
func MemoryLimit(command string) int64 {
	if l, ok := MemoryLimits[command]; ok {
		return l
	}
	return DefaultMemoryLimit
}

// Environment variable names. docker-compose.yml uses exactly these; a test
// checks that it names no other.
const (
	EnvKafkaBrokers     = "KAFKA_BROKERS"
	EnvKafkaReplication = "KAFKA_REPLICATION"
	EnvKafkaSingleDev   = "KAFKA_DEV_SINGLE_BROKER"
	EnvKafkaPartitions  = "KAFKA_PARTITIONS"
	EnvElasticURLs      = "ELASTICSEARCH_URLS"
	EnvElasticUser      = "ELASTICSEARCH_USERNAME"
	EnvElasticPassword  = "ELASTICSEARCH_PASSWORD"
	EnvElasticAPIKey    = "ELASTICSEARCH_API_KEY"
	EnvElasticCAFile    = "ELASTICSEARCH_CA_FILE"
	EnvSMTPHost         = "SMTP_HOST"
	EnvSMTPPort         = "SMTP_PORT"
	EnvSMTPUser         = "SMTP_USER"
	EnvSMTPPassword     = "SMTP_PASSWORD"
	EnvSMTPFrom         = "SMTP_FROM"
	EnvSMTPTLS          = "SMTP_TLS"
	EnvReportRecipients = "REPORT_RECIPIENTS"
	EnvAlertRecipients  = "ALERT_RECIPIENTS"
	EnvDataDir          = "LOGMON_DATA_DIR"
	EnvStackDir         = "LOGMON_STACK_DIR"
	EnvMetricsAddr      = "LOGMON_METRICS_ADDR"
	EnvLogLevel         = "LOGMON_LOG_LEVEL"
	EnvIngestGlobs      = "INGEST_GLOBS"
	EnvIngestID         = "INGEST_ID"
	EnvIngestTxnTimeout = "INGEST_TXN_TIMEOUT"
	EnvSourceTZ         = "SOURCE_TZ"
	EnvSourceYear       = "SOURCE_YEAR"
	EnvReportTZ         = "REPORT_TZ"
	EnvRulesFile        = "RULES_FILE"

	// The API (issue 6).
	EnvAPIHTTPAddr  = "API_HTTP_ADDR"
	EnvAPIGRPCAddr  = "API_GRPC_ADDR"
	EnvAPIToken     = "API_TOKEN"
	EnvAPITLSCert   = "API_TLS_CERT"
	EnvAPITLSKey    = "API_TLS_KEY"
	EnvAPIRateLimit = "API_RATE_LIMIT"
	EnvAPIPublicURL = "API_PUBLIC_URL"
	EnvKibanaURL    = "KIBANA_URL"

	// The Elasticsearch sink (issue 7).
	EnvElasticIndexLayout   = "ELASTICSEARCH_INDEX_LAYOUT"
	EnvElasticRetentionDays = "ELASTICSEARCH_RETENTION_DAYS"

	// Alert mail and the daily report (issue 8).
	EnvSMTPTimeout       = "SMTP_TIMEOUT"
	EnvSMTPCAFile        = "SMTP_CA_FILE"
	EnvAlertDigestAfter  = "ALERT_DIGEST_AFTER"
	EnvAlertDigestWindow = "ALERT_DIGEST_WINDOW"
	EnvReportSchedule    = "REPORT_SCHEDULE"
	EnvReportRetryDelay  = "REPORT_RETRY_DELAY"

	// Pipeline health (issue 16).
	EnvInstance        = "LOGMON_INSTANCE"
	EnvHealthInterval  = "LOGMON_HEALTH_INTERVAL"
	EnvHeartbeatsTopic = "LOGMON_HEARTBEATS_TOPIC"
	EnvStallWindow     = "LOGMON_STALL_WINDOW"

	// Incidents (issue 17): override the rules file's "incidents" section.
	EnvIncidentGap            = "INCIDENT_GAP"
	EnvIncidentSettle         = "INCIDENT_SETTLE"
	EnvIncidentBackfillAfter  = "INCIDENT_BACKFILL_AFTER"
	EnvIncidentClosingSummary = "INCIDENT_CLOSING_SUMMARY"
)

// EnvNames lists every environment variable the project reads.
var EnvNames = []string{
	EnvKafkaBrokers, EnvKafkaReplication, EnvKafkaSingleDev, EnvKafkaPartitions,
	EnvElasticURLs, EnvElasticUser, EnvElasticPassword, EnvElasticAPIKey, EnvElasticCAFile,
	EnvSMTPHost, EnvSMTPPort, EnvSMTPUser, EnvSMTPPassword, EnvSMTPFrom, EnvSMTPTLS,
	EnvReportRecipients, EnvAlertRecipients,
	EnvDataDir, EnvStackDir, EnvMetricsAddr, EnvLogLevel,
	EnvIngestGlobs, EnvIngestID, EnvIngestTxnTimeout, EnvSourceTZ, EnvSourceYear,
	EnvReportTZ, EnvRulesFile,
	EnvAPIHTTPAddr, EnvAPIGRPCAddr, EnvAPIToken, EnvAPITLSCert, EnvAPITLSKey, EnvAPIRateLimit, EnvAPIPublicURL, EnvKibanaURL,
	EnvElasticIndexLayout, EnvElasticRetentionDays,
	EnvSMTPTimeout, EnvSMTPCAFile, EnvAlertDigestAfter, EnvAlertDigestWindow, EnvReportSchedule, EnvReportRetryDelay,
	EnvInstance, EnvHealthInterval, EnvHeartbeatsTopic, EnvStallWindow,
	EnvIncidentGap, EnvIncidentSettle, EnvIncidentBackfillAfter, EnvIncidentClosingSummary,
}

// Kafka is the cluster every component talks to.
type Kafka struct {
	Brokers []string
	// Replication of every topic the project creates, goka's tables and
	// loopbacks included. 3 in production; 1 only with SingleBrokerDev.
	Replication int
	// SingleBrokerDev allows a cluster with fewer than three brokers (and
	// replication 1). Development only: one broker's loss loses data.
	SingleBrokerDev bool
	// Partitions of ssh-log, ssh-alerts and the processors' tables and
	// loopbacks (0 = DefaultPartitions). The most processor instances that
	// share the work; a key's partition depends on it, so an install keeps
	// the count it started with (topics.Ensure refuses a topic that differs).
	Partitions int
}

// DefaultPartitions is the partition count of a small install.
const DefaultPartitions = 3

// PartitionCount is Partitions, or DefaultPartitions when it is not set (a
// Kafka value built in code rather than by Load).
func (k Kafka) PartitionCount() int {
	if k.Partitions > 0 {
		return k.Partitions
	}
	return DefaultPartitions
}

// MinInsyncReplicas is what `ssh-log` requires with acks=all.
func (k Kafka) MinInsyncReplicas() int {
	if k.Replication >= 3 {
		return 2
	}
	return 1
}

// Elastic is the Elasticsearch cluster of the sink.
type Elastic struct {
	URLs     []string
	Username string
	Password string
	APIKey   string
	CAFile   string
	// IndexLayout is "single" (one index per name, the seed's layout),
	// "daily" or "monthly" (time-based indices behind the names as aliases).
	IndexLayout string
	// RetentionDays deletes time-based indices older than this (0 = keep).
	RetentionDays int
}

// API is the gRPC + REST server over the views.
type API struct {
	HTTPAddr string
	GRPCAddr string
	// Token, when set, is required as a bearer token by every call but health.
	Token   string
	TLSCert string
	TLSKey  string
	// RateLimit is the requests per second allowed per client (0 = no limit).
	RateLimit float64
	// PublicURL is how people reach the REST API (links in mails).
	PublicURL string
}

// Notify is the alert mailer and the daily report.
type Notify struct {
	// DigestAfter: when more than this many alerts are waiting at once, one
	// digest mail carries them all (0 = always one mail per alert).
	DigestAfter int
	// DigestWindow is how long alerts are gathered before mailing.
	DigestWindow time.Duration
	// ReportSchedule is when the daily report goes out, cron-like
	// "minute hour * * *" in the report time zone.
	ReportSchedule string
	// ReportRetryDelay is the wait before the one retry of a failed report.
	ReportRetryDelay time.Duration
}

// SMTP is the outgoing mail server.
type SMTP struct {
	Host     string
	Port     int
	User     string
	Password string
	From     string
	// TLS is "none", "starttls" or "tls".
	TLS     string
	Timeout time.Duration
	// CAFile is a PEM file of the CA that signed the server's certificate
	// (empty: the system's roots).
	CAFile string
}

// Ingest is the source side: which files to tail and how to read their time.
type Ingest struct {
	Globs []string
	// SourceTZ is the IANA zone of the files' syslog times ("" = the machine's).
	SourceTZ string
	// SourceYear is the start year for replaying old files (0 = live inference).
	SourceYear int
	// FromStart reads existing files from their beginning instead of their end.
	FromStart bool
	// ID is the ingest instance's identity: its Kafka transactional id and
	// the key of its file positions. "" = derived from the host name, the
	// topic and the globs (IngestID), stable across restarts. A second instance with
	// the same ID takes over from the first (which stops).
	ID string
	// TxnTimeout bounds an open transaction: a tailer killed in the middle
	// of one (and not restarted) holds back read_committed consumers of
	// ssh-log until it expires.
	TxnTimeout time.Duration
}

// IngestID is the default ingest identity: "logmon-ingest-" + host + a hash
// of the topic and the globs, so each (server, set of files, topic) has its
// own positions and a restart on the same server resumes them.
func IngestID(host, topic string, globs []string) string {
	h := fnv.New32a()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	for _, g := range globs {
		h.Write([]byte(g))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("logmon-ingest-%s-%08x", host, h.Sum32())
}

// Config is every setting of log_monitor.
type Config struct {
	Kafka   Kafka
	Elastic Elastic
	SMTP    SMTP
	Ingest  Ingest
	API     API
	Notify  Notify

	// KibanaURL is where people open Kibana (links in mails and the demo).
	KibanaURL string

	ReportRecipients []string
	AlertRecipients  []string
	// ReportTZ is the zone whose calendar days make metric_date (docs/contracts.md: Asia/Seoul).
	ReportTZ string
	// RulesFile overrides detection thresholds and windows (YAML or JSON).
	RulesFile string

	// DataDir holds the component's local state (tail registry, goka storage).
	DataDir string
	// StackDir holds the local stack's downloads, data and logs.
	StackDir string
	// MetricsAddr serves /metrics, /healthz and /readyz ("" = off).
	MetricsAddr string
	LogLevel    string

	Health Health
}

// Health is how the pipeline watches itself (connectors/health).
type Health struct {
	// Instance names this process in its heartbeats; it must stay the same
	// across restarts ("" = the host name).
	Instance string
	// Interval between heartbeats, and between the watchdog's looks.
	Interval time.Duration
	// Topic is the compacted heartbeats topic.
	Topic string
	// StallWindow is how long a consumer group's lag must grow (or input
	// arrive with nothing processed) before pipeline_stalled fires.
	StallWindow time.Duration
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Kafka: Kafka{
			Brokers:     SplitList(LocalKafkaBrokers),
			Replication: 3,
			Partitions:  DefaultPartitions,
		},
		Elastic: Elastic{URLs: SplitList(LocalElasticsearch), IndexLayout: "single"},
		API: API{
			HTTPAddr:  "127.0.0.1:8080",
			GRPCAddr:  "127.0.0.1:9090",
			RateLimit: 1000,
			PublicURL: "http://127.0.0.1:8080",
		},
		Notify: Notify{
			DigestAfter:      5,
			DigestWindow:     10 * time.Second,
			ReportSchedule:   "0 9 * * *",
			ReportRetryDelay: 5 * time.Minute,
		},
		KibanaURL: "http://127.0.0.1:5601",
		SMTP: SMTP{
			Host:    LocalSMTPHost,
			Port:    LocalSMTPPort,
			From:    "log_monitor <logmon@localhost>",
			TLS:     "none",
			Timeout: 30 * time.Second,
		},
		Ingest: Ingest{
			Globs:      []string{"/data/ssh-*.log"},
			TxnTimeout: 20 * time.Second,
		},
		ReportTZ:    "Asia/Seoul",
		DataDir:     "data",
		StackDir:    "/var/tmp/logmon-stack",
		MetricsAddr: "127.0.0.1:9464",
		LogLevel:    "info",
		Health: Health{
			Interval:    10 * time.Second,
			Topic:       "logmon-heartbeats",
			StallWindow: 5 * time.Minute,
		},
	}
}

// Load returns the defaults overridden by the environment.
func Load() (Config, error) {
	c := Default()
	return c, c.LoadEnv(os.Getenv)
}

// LoadEnv overrides c with every variable that getenv reports non-empty.
func (c *Config) LoadEnv(getenv func(string) string) error {
	var errs []string
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	list := func(name string, dst *[]string) {
		if v := getenv(name); strings.TrimSpace(v) != "" {
			*dst = SplitList(v)
		}
	}
	num := func(name string, dst *int) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: not a number", name, v))
				return
			}
			*dst = n
		}
	}
	boolean := func(name string, dst *bool) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: not a boolean", name, v))
				return
			}
			*dst = b
		}
	}
	float := func(name string, dst *float64) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: not a number", name, v))
				return
			}
			*dst = f
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: not a duration (e.g. 30s, 5m)", name, v))
				return
			}
			*dst = d
		}
	}
	list(EnvKafkaBrokers, &c.Kafka.Brokers)
	num(EnvKafkaReplication, &c.Kafka.Replication)
	num(EnvKafkaPartitions, &c.Kafka.Partitions)
	boolean(EnvKafkaSingleDev, &c.Kafka.SingleBrokerDev)
	list(EnvElasticURLs, &c.Elastic.URLs)
	str(EnvElasticUser, &c.Elastic.Username)
	str(EnvElasticPassword, &c.Elastic.Password)
	str(EnvElasticAPIKey, &c.Elastic.APIKey)
	str(EnvElasticCAFile, &c.Elastic.CAFile)
	str(EnvSMTPHost, &c.SMTP.Host)
	num(EnvSMTPPort, &c.SMTP.Port)
	str(EnvSMTPUser, &c.SMTP.User)
	str(EnvSMTPPassword, &c.SMTP.Password)
	str(EnvSMTPFrom, &c.SMTP.From)
	str(EnvSMTPTLS, &c.SMTP.TLS)
	list(EnvReportRecipients, &c.ReportRecipients)
	list(EnvAlertRecipients, &c.AlertRecipients)
	str(EnvDataDir, &c.DataDir)
	str(EnvStackDir, &c.StackDir)
	str(EnvMetricsAddr, &c.MetricsAddr)
	str(EnvLogLevel, &c.LogLevel)
	list(EnvIngestGlobs, &c.Ingest.Globs)
	str(EnvIngestID, &c.Ingest.ID)
	duration(EnvIngestTxnTimeout, &c.Ingest.TxnTimeout)
	str(EnvReportTZ, &c.ReportTZ)
	str(EnvRulesFile, &c.RulesFile)
	str(EnvSourceTZ, &c.Ingest.SourceTZ)
	num(EnvSourceYear, &c.Ingest.SourceYear)
	str(EnvAPIHTTPAddr, &c.API.HTTPAddr)
	str(EnvAPIGRPCAddr, &c.API.GRPCAddr)
	str(EnvAPIToken, &c.API.Token)
	str(EnvAPITLSCert, &c.API.TLSCert)
	str(EnvAPITLSKey, &c.API.TLSKey)
	float(EnvAPIRateLimit, &c.API.RateLimit)
	str(EnvAPIPublicURL, &c.API.PublicURL)
	str(EnvKibanaURL, &c.KibanaURL)
	str(EnvElasticIndexLayout, &c.Elastic.IndexLayout)
	num(EnvElasticRetentionDays, &c.Elastic.RetentionDays)
	duration(EnvSMTPTimeout, &c.SMTP.Timeout)
	str(EnvSMTPCAFile, &c.SMTP.CAFile)
	num(EnvAlertDigestAfter, &c.Notify.DigestAfter)
	duration(EnvAlertDigestWindow, &c.Notify.DigestWindow)
	str(EnvReportSchedule, &c.Notify.ReportSchedule)
	duration(EnvReportRetryDelay, &c.Notify.ReportRetryDelay)
	str(EnvInstance, &c.Health.Instance)
	duration(EnvHealthInterval, &c.Health.Interval)
	str(EnvHeartbeatsTopic, &c.Health.Topic)
	duration(EnvStallWindow, &c.Health.StallWindow)
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// KafkaConfigured reports whether the environment names a Kafka cluster.
func KafkaConfigured(getenv func(string) string) bool {
	return strings.TrimSpace(getenv(EnvKafkaBrokers)) != ""
}

// RegisterKafkaFlags adds the Kafka flags to fs, defaulting to c's values.
func (c *Config) RegisterKafkaFlags(fs *flag.FlagSet) {
	fs.Func("brokers", "Kafka bootstrap brokers, comma-separated (env "+EnvKafkaBrokers+", default "+strings.Join(c.Kafka.Brokers, ",")+")", func(s string) error {
		c.Kafka.Brokers = SplitList(s)
		return nil
	})
	fs.IntVar(&c.Kafka.Replication, "replication", c.Kafka.Replication, "replication of every topic the project creates (env "+EnvKafkaReplication+")")
	fs.IntVar(&c.Kafka.Partitions, "partitions", c.Kafka.Partitions, "partitions of ssh-log, ssh-alerts and the processors' topics; the most processor instances (env "+EnvKafkaPartitions+")")
	fs.BoolVar(&c.Kafka.SingleBrokerDev, "dev-single-broker", c.Kafka.SingleBrokerDev, "development only: allow fewer than 3 brokers and replication 1 (env "+EnvKafkaSingleDev+")")
}

// RegisterElasticFlags adds the Elasticsearch flags to fs.
func (c *Config) RegisterElasticFlags(fs *flag.FlagSet) {
	fs.Func("es-urls", "Elasticsearch node URLs, comma-separated (env "+EnvElasticURLs+", default "+strings.Join(c.Elastic.URLs, ",")+")", func(s string) error {
		c.Elastic.URLs = SplitList(s)
		return nil
	})
	fs.StringVar(&c.Elastic.Username, "es-username", c.Elastic.Username, "Elasticsearch basic-auth user (env "+EnvElasticUser+")")
	fs.StringVar(&c.Elastic.CAFile, "es-ca-file", c.Elastic.CAFile, "PEM file of the CA that signed Elasticsearch's certificate (env "+EnvElasticCAFile+")")
}

// RegisterCommonFlags adds the flags every long-running component has.
func (c *Config) RegisterCommonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "local state directory (env "+EnvDataDir+")")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address of /metrics, /healthz and /readyz, empty to disable (env "+EnvMetricsAddr+")")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env "+EnvLogLevel+")")
	c.RegisterHealthFlags(fs)
}

// RegisterHealthFlags adds the heartbeat and watchdog flags.
func (c *Config) RegisterHealthFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Health.Instance, "instance", c.Health.Instance, "this instance's name in heartbeats, stable across restarts (default the host name; env "+EnvInstance+")")
	fs.DurationVar(&c.Health.Interval, "health-interval", c.Health.Interval, "interval of heartbeats and of the watchdog (env "+EnvHealthInterval+")")
	fs.StringVar(&c.Health.Topic, "heartbeats-topic", c.Health.Topic, "compacted topic of the heartbeats (env "+EnvHeartbeatsTopic+")")
}

// Validate checks the settings that would otherwise fail late.
func (c Config) Validate() error {
	if len(c.Kafka.Brokers) == 0 {
		return fmt.Errorf("config: no Kafka brokers (set %s or -brokers)", EnvKafkaBrokers)
	}
	if c.Kafka.Replication < 1 {
		return fmt.Errorf("config: replication %d: must be at least 1", c.Kafka.Replication)
	}
	if c.Kafka.Partitions < 1 {
		return fmt.Errorf("config: %s=%d: must be at least 1", EnvKafkaPartitions, c.Kafka.Partitions)
	}
	if c.Kafka.Replication < 3 && !c.Kafka.SingleBrokerDev {
		return fmt.Errorf("config: replication %d is below 3; set %s=true (or -dev-single-broker) to allow it for development", c.Kafka.Replication, EnvKafkaSingleDev)
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("config: %s=%q: want none, starttls or tls", EnvSMTPTLS, c.SMTP.TLS)
	}
	switch c.Elastic.IndexLayout {
	case "single", "daily", "monthly":
	default:
		return fmt.Errorf("config: %s=%q: want single, daily or monthly", EnvElasticIndexLayout, c.Elastic.IndexLayout)
	}
	if c.Elastic.RetentionDays < 0 {
		return fmt.Errorf("config: %s=%d: must be 0 (keep) or more", EnvElasticRetentionDays, c.Elastic.RetentionDays)
	}
	if (c.API.TLSCert == "") != (c.API.TLSKey == "") {
		return fmt.Errorf("config: %s and %s go together", EnvAPITLSCert, EnvAPITLSKey)
	}
	return nil
}

// SplitList splits a comma- or whitespace-separated list, dropping empty items.
func SplitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == ';' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// RegisterSourceFlags adds the flags that say how to read the logs' times.
func (c *Config) RegisterSourceFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Ingest.SourceTZ, "source-tz", c.Ingest.SourceTZ, "IANA time zone of the logs' syslog times, e.g. Asia/Seoul (env "+EnvSourceTZ+"; default the machine's)")
	fs.IntVar(&c.Ingest.SourceYear, "year", c.Ingest.SourceYear, "start year when replaying an old file; a month going backwards starts the next year (env "+EnvSourceYear+"; 0 = live: the year closest to now)")
}

// Location is the source time zone (the machine's when unset).
func (i Ingest) Location() (*time.Location, error) {
	if i.SourceTZ == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(i.SourceTZ)
	if err != nil {
		return nil, fmt.Errorf("config: %s=%q: %w", EnvSourceTZ, i.SourceTZ, err)
	}
	return loc, nil
}

// ReportLocation is the time zone of metric_date and the daily report.
func (c Config) ReportLocation() (*time.Location, error) {
	loc, err := time.LoadLocation(c.ReportTZ)
	if err != nil {
		return nil, fmt.Errorf("config: %s=%q: %w", EnvReportTZ, c.ReportTZ, err)
	}
	return loc, nil
}
