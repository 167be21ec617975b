// Command hostsbench simulates many agents: -hosts hosts each send a
// sample every -interval, spread evenly over the interval, for -duration,
// to -topic (keyed by host, with the project's producer). Every 5 s it
// prints the host group's lag on that topic, so a growing lag shows a
// stage that does not keep up. With -api it then times -requests calls of
// GET /v1/hosts and prints p50/p99 and the answer's size.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094", "Kafka brokers")
	topic := flag.String("topic", contracts.TopicSystemMetrics, "samples topic")
	group := flag.String("group", "", "the host stage's goka group, whose lag is printed")
	hosts := flag.Int("hosts", 1000, "simulated hosts")
	interval := flag.Duration("interval", 10*time.Second, "each host's sampling interval")
	duration := flag.Duration("duration", 2*time.Minute, "how long the hosts send")
	api := flag.String("api", "", "base URL of logmon api (empty: no API timing)")
	requests := flag.Int("requests", 200, "GET /v1/hosts calls")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	k := config.Kafka{Brokers: strings.Split(*brokers, ","), Replication: 3}

	prod, err := sarama.NewAsyncProducer(k.Brokers, kafkaconfig.Sarama("hostsbench"))
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for range prod.Successes() {
		}
	}()
	go func() {
		for e := range prod.Errors() {
			log.Printf("send: %v", e.Err)
		}
	}()
	sent := 0
	go reportLag(ctx, k, *group, *topic)
	tick := time.NewTicker(*interval / time.Duration(*hosts))
	end := time.Now().Add(*duration)
	for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
		<-tick.C
		h := i % *hosts
		s := sample(h, i / *hosts, *interval)
		v, _ := json.Marshal(s)
		prod.Input() <- &sarama.ProducerMessage{Topic: *topic, Key: sarama.StringEncoder(s.HostName), Value: sarama.ByteEncoder(v)}
		sent++
	}
	tick.Stop()
	if err := prod.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d samples of %d hosts over %v (%.0f/s)\n", sent, *hosts, *duration, float64(sent)/duration.Seconds())
	if *group != "" {
		waitCaughtUp(ctx, k, *group, *topic)
	}
	if *api != "" {
		timeAPI(*api, *requests)
	}
}

// sample is host h's n-th sample: a little busy, a disk half full.
func sample(h, n int, interval time.Duration) contracts.HostSample {
	return contracts.HostSample{Timestamp: time.Now().UTC(), HostName: fmt.Sprintf("sim-%04d", h), IntervalSeconds: interval.Seconds(),
		Seq: int64(n + 1), UptimeSeconds: 3600,
		CPU:    contracts.CPUSample{Cores: 4, Norm: contracts.CPUTimes{User: 0.2, System: 0.05, Idle: 0.75}},
		Load:   contracts.LoadSample{Load1: 0.8, Load5: 0.7, Load15: 0.6, CoreCount: 4},
		Memory: contracts.MemorySample{Total: 8 << 30, ActualUsedPct: 0.4, UsedPct: 0.7},
		Filesystems: []contracts.FilesystemStat{{MountPoint: "/", Device: "/dev/sda1", Type: "ext4", Total: 100 << 30, Used: 50 << 30, UsedPct: 0.5},
			{MountPoint: "/boot", Device: "/dev/sda2", Type: "ext4", Total: 1 << 30, Used: 200 << 20, UsedPct: 0.2}},
		Network:   []contracts.NetworkStat{{Name: "eth0", InBytes: uint64(n) << 20, OutBytes: uint64(n) << 19}},
		DiskIO:    []contracts.DiskIOStat{{Name: "sda", ReadBytes: uint64(n) << 20}},
		Processes: contracts.ProcessSummary{Total: 180, Sleeping: 178, Running: 2},
	}
}

func reportLag(ctx context.Context, k config.Kafka, group, topic string) {
	if group == "" {
		return
	}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lag, err := topics.GroupLag(ctx, k, group, []string{topic})
		fmt.Printf("t=%3.0fs lag %d %v\n", time.Since(start).Seconds(), lag, errString(err))
	}
}

func waitCaughtUp(ctx context.Context, k config.Kafka, group, topic string) {
	start := time.Now()
	for ctx.Err() == nil {
		if lag, err := topics.GroupLag(ctx, k, group, []string{topic}); err == nil && lag == 0 {
			fmt.Printf("caught up %.1f s after the last send\n", time.Since(start).Seconds())
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func timeAPI(base string, n int) {
	var lat []time.Duration
	size := 0
	hostsSeen := 0
	for i := 0; i < n; i++ {
		t0 := time.Now()
		res, err := http.Get(base + "/v1/hosts")
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(t0))
		if res.StatusCode != http.StatusOK {
			log.Fatalf("GET /v1/hosts: %d %s", res.StatusCode, b)
		}
		size = len(b)
		hostsSeen = strings.Count(string(b), `"state"`)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("GET /v1/hosts x%d: %d hosts, %d KiB; p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", n, hostsSeen, size/1024,
		ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func errString(err error) string {
	if err != nil {
		return err.Error()
	}
	return ""
}
