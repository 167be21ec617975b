package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/api"
	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/console"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/hoststage"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/topics"
	"github.com/log-monitor/log_monitor/views"
)

// apiOptions are `logmon api`'s own flags.
type apiOptions struct {
	group, alerts string
	incidents     string
	maxAlerts     int
	status        statusOptions
	// eventsIndex is searched for an IP's events ("" = without
	// Elasticsearch); noConsole leaves the browser console out.
	eventsIndex string
	noConsole   bool
}

// runAPI serves the gRPC + REST API over the tracker view and the alert
// view until ctx ends.
func runAPI(ctx context.Context, args []string) error {
	o := &apiOptions{}
	return runComponents(ctx, "api", args, func(fs *flag.FlagSet, cfg *config.Config) {
		registerProcessFlags(fs, cfg)
		registerAPIFlags(fs, cfg)
		fs.StringVar(&o.group, "group", tracker.DefaultGroup, "goka group whose table the API reads (tests and benchmarks use their own)")
		fs.StringVar(&o.alerts, "alerts", "", "alert topic (default ssh-alerts)")
		fs.StringVar(&o.incidents, "incidents", contracts.TopicSSHIncidents, "incident topic")
		fs.IntVar(&o.maxAlerts, "max-alerts", views.DefaultMaxAlerts, "recent alerts kept in memory for listing and streaming")
		fs.StringVar(&o.eventsIndex, "events-index", contracts.IndexSSHLog, "Elasticsearch index (or alias, pattern) searched for an IP's events; empty: run without Elasticsearch")
		fs.BoolVar(&o.noConsole, "no-console", false, "do not serve the browser console at / on the REST address")
		registerStatusFlags(fs, &o.status)
	}, func(ctx context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		return buildAPI(ctx, cfg, o, reg, log)
	})
}

// registerAPIFlags adds the API's flags. The token has none: a flag would
// show it in the process list; set API_TOKEN.
func registerAPIFlags(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.API.GRPCAddr, "grpc-addr", cfg.API.GRPCAddr, "gRPC address (env "+config.EnvAPIGRPCAddr+")")
	fs.StringVar(&cfg.API.HTTPAddr, "http-addr", cfg.API.HTTPAddr, "REST and /openapi.json address (env "+config.EnvAPIHTTPAddr+")")
	fs.StringVar(&cfg.API.TLSCert, "tls-cert", cfg.API.TLSCert, "PEM certificate: serve gRPC and REST over TLS (env "+config.EnvAPITLSCert+")")
	fs.StringVar(&cfg.API.TLSKey, "tls-key", cfg.API.TLSKey, "PEM key of -tls-cert (env "+config.EnvAPITLSKey+")")
	fs.Float64Var(&cfg.API.RateLimit, "rate-limit", cfg.API.RateLimit, "requests per second per client, 0 = no limit (env "+config.EnvAPIRateLimit+")")
}

// buildAPI makes the tracker view, the recent-alerts view and the server.
func buildAPI(ctx context.Context, cfg config.Config, o *apiOptions, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
	if o.group == "" {
		o.group = tracker.DefaultGroup
	}
	if o.maxAlerts == 0 {
		o.maxAlerts = views.DefaultMaxAlerts
	}
	if o.incidents == "" {
		o.incidents = contracts.TopicSSHIncidents
	}
	// The views read the group's table and the alert topic: make sure they exist.
	if err := tracker.New(tracker.Config{Kafka: cfg.Kafka, Group: o.group, Alerts: o.alerts}, nil, log).EnsureTopics(ctx); err != nil {
		return nil, err
	}
	tv, err := views.NewTracker(cfg.Kafka, o.group, filepath.Join(cfg.DataDir, "api", o.group+"-view"), log)
	if err != nil {
		return nil, err
	}
	av := views.NewAlerts(views.AlertsConfig{Kafka: cfg.Kafka, Topic: o.alerts, MaxAlerts: o.maxAlerts}, log)
	// The host stage's table, read by the hosts view.
	hostTable := topics.Spec{Name: hoststage.TableTopic(hoststage.Group(o.group)), Compacted: true}
	if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{hostTable}, log); err != nil {
		return nil, err
	}
	hv, err := views.NewHosts(cfg.Kafka, o.group, log)
	if err != nil {
		return nil, err
	}
	srv, err := api.New(cfg, tv, av, reg, log)
	if err != nil {
		return nil, err
	}
	srv.WithHosts(hv)
	if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: o.incidents}}, log); err != nil {
		return nil, err
	}
	iv := views.NewIncidents(views.IncidentsConfig{Kafka: cfg.Kafka, Topic: o.incidents}, log)
	srv.WithIncidents(iv)
	if o.status.alerts == "" {
		o.status = allStatusOptions("")
	}
	collector, err := newCollector(cfg, o.status, log)
	if err != nil {
		return nil, err
	}
	srv.WithStatus(func(ctx context.Context) *contracts.Status { return collector.Collect(ctx) })
	if o.eventsIndex != "" {
		es, err := elastic.NewClient(cfg.Elastic)
		if err != nil {
			return nil, err
		}
		srv.WithEvents(es, o.eventsIndex)
	}
	if !o.noConsole {
		srv.WithConsole(console.Handler())
	}
	return []component{
		{name: "tracker view", run: tv.Run, ready: readyWhen(tv, "tracker view recovering")},
		{name: "alerts view", run: av.Run, ready: readyWhen(av, "alerts view recovering")},
		{name: "hosts view", run: hv.Run, ready: readyWhen(hv, "hosts view recovering")},
		{name: "incidents view", run: iv.Run, ready: readyWhen(iv, "incidents view recovering")},
		{name: "api", run: srv.Run},
	}, nil
}
