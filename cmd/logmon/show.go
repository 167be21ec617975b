package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/topics"
)

// runShow prints what the pipeline produced: alerts by rule (and the latest
// ones) from ssh-alerts, and the metrics-daily documents.
func runShow(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("show", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	alertsTopic := fs.String("alerts", contracts.TopicSSHAlerts, "alert topic")
	metricsTopic := fs.String("metrics-topic", contracts.TopicMetricsDaily, "metrics-daily topic")
	latest := fs.Int("latest", 5, "how many of the latest alerts to print")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	byRule := map[string]int{}
	ids := map[string]contracts.Alert{}
	err = topics.ReadAll(ctx, cfg.Kafka, *alertsTopic, func(m *sarama.ConsumerMessage) error {
		var a contracts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			return fmt.Errorf("alert at %s/%d/%d: %w", m.Topic, m.Partition, m.Offset, err)
		}
		if _, seen := ids[a.ID]; !seen { // a replay may emit an alert twice
			byRule[a.Rule]++
		}
		ids[a.ID] = a
		return nil
	})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "ALERTS (%s)\tdistinct\n", *alertsTopic)
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		fmt.Fprintf(w, "  %s\t%d\n", r, byRule[r])
	}
	w.Flush()
	all := make([]contracts.Alert, 0, len(ids))
	for _, a := range ids {
		all = append(all, a)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].LastEventTime.After(all[j].LastEventTime) })
	for i := 0; i < len(all) && i < *latest; i++ {
		fmt.Printf("  %s\n", all[i].Message)
	}

	docs := map[string]contracts.DailyMetrics{}
	err = topics.ReadAll(ctx, cfg.Kafka, *metricsTopic, func(m *sarama.ConsumerMessage) error {
		var d contracts.DailyMetrics
		if err := json.Unmarshal(m.Value, &d); err != nil {
			return fmt.Errorf("metrics-daily at %d: %w", m.Offset, err)
		}
		docs[d.MetricDate] = d // latest wins, as in the compacted topic
		return nil
	})
	if err != nil {
		return err
	}
	days := make([]string, 0, len(docs))
	for d := range docs {
		days = append(days, d)
	}
	sort.Strings(days)
	fmt.Printf("\nMETRICS-DAILY (%s)\n", *metricsTopic)
	w = tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  metric_date\ttotal_logs\terror_count\tunique_ips\tpeak_hour\tbrute_force_ips\ttop_ip\tfinal")
	for _, day := range days {
		d := docs[day]
		top := "-"
		if len(d.TopIPList) > 0 {
			top = fmt.Sprintf("%s (%d)", d.TopIPList[0].IP, d.TopIPList[0].Cnt)
		}
		fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%d (%d)\t%d\t%s\t%v\n", d.MetricDate, d.TotalLogs, d.ErrorCount, d.UniqueIPs, d.PeakHour, d.PeakHourLogs, d.BruteForceIPs, top, d.Final)
	}
	return w.Flush()
}
