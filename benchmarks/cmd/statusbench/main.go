// Command statusbench measures the pipeline-health machinery (issue 16) on
// a running cluster:
//
//   - the status's answer time with the lag of -partitions partitions to
//     compute: one topic written in transactions (records and commit
//     markers, as ssh-log), a consumer group committed -behind records
//     before the end of each partition, so that every partition's lag is
//     counted exactly from the batch headers; -rounds looks, median;
//   - what heartbeats and status polling cost the brokers: their CPU
//     (from /proc/<pid>/stat) over -window idle, then with -publishers
//     heartbeat publishers every -beat, then with a status look every 2 s
//     (`logmon status -watch`), each alone.
//
// It never starts or stops the cluster; it deletes its topic and group.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/health"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

func main() {
	partitions := flag.Int("partitions", 1000, "partitions whose lag the status computes")
	perPartition := flag.Int("records", 20, "records written to each partition")
	behind := flag.Int("behind", 10, "records each partition's committed offset lies before the end")
	rounds := flag.Int("rounds", 7, "status looks timed")
	publishers := flag.Int("publishers", 50, "heartbeat publishers during the load window")
	beat := flag.Duration("beat", time.Second, "their heartbeat interval")
	window := flag.Duration("window", 60*time.Second, "each broker-CPU window (idle, then loaded)")
	stackDir := flag.String("stack-dir", "/var/tmp/logmon-stack", "the local stack (for the brokers' pids)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load()
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	name := fmt.Sprintf("bench-status-%d", time.Now().UnixNano())
	k := cfg.Kafka
	defer cleanup(k, name)

	t0 := time.Now()
	if err := fill(ctx, k, name, *partitions, *perPartition, *behind, log); err != nil {
		fail(err)
	}
	fmt.Printf("setup: topic %s, %d partitions x %d records in transactions, group committed %d before each end (%.1f s)\n",
		name, *partitions, *perPartition, *behind, time.Since(t0).Seconds())

	c, err := health.NewCollector(health.Config{Kafka: k, Groups: []string{name}, HeartbeatsTopic: name + "-hb",
		AlertsTopic: name + "-none", DLQTopic: name + "-none"}, log)
	if err != nil {
		fail(err)
	}
	var took []time.Duration
	for i := range *rounds {
		st := c.Collect(ctx)
		var lag int64
		parts := 0
		for _, g := range st.Groups {
			lag += g.Lag
			parts += len(g.Partitions)
		}
		want := int64(*partitions * *behind)
		if lag != want || parts != *partitions {
			fail(fmt.Errorf("round %d: lag %d over %d partitions, want %d over %d (errors %v)", i, lag, parts, want, *partitions, st.Errors))
		}
		took = append(took, st.Took)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	fmt.Printf("status with %d partitions' exact lag: median %v, min %v, max %v (%d rounds; lag %d each time)\n",
		*partitions, took[len(took)/2].Round(time.Millisecond), took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond),
		*rounds, *partitions**behind)

	pids, err := brokerPids(*stackDir)
	if err != nil {
		fmt.Printf("broker CPU: not measured (%v)\n", err)
		return
	}
	idle := brokerCPU(pids, *window, nil)
	var sent sync.Map
	beats := brokerCPU(pids, *window, func(ctx context.Context) {
		var wg sync.WaitGroup
		for i := range *publishers {
			wg.Go(func() {
				p := &health.Publisher{Kafka: k, Topic: name + "-hb", Instance: "bench-" + strconv.Itoa(i), Interval: *beat, Log: log,
					Sources: []health.Source{{Component: "bench", Progress: func() float64 { v, _ := sent.LoadOrStore(i, 0); return float64(v.(int)) }}}}
				_ = p.Run(ctx)
			})
		}
		wg.Wait()
	})
	looks := 0
	polling := brokerCPU(pids, *window, func(ctx context.Context) {
		sc, _ := health.NewCollector(health.Config{Kafka: k, HeartbeatsTopic: name + "-hb"}, log)
		for ctx.Err() == nil {
			sc.Collect(ctx)
			looks++
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	})
	fmt.Printf("brokers' CPU (3 brokers, %% of one core, each window %v): idle %.1f%%; with %d heartbeat publishers every %v (%.0f records/s) %.1f%%; with a status look every 2 s (%d looks, the heartbeats of %d instances to read) %.1f%%\n",
		*window, idle, *publishers, *beat, float64(*publishers)/beat.Seconds(), beats, looks, *publishers, polling)
	fmt.Println("a real install: 7 parts, a heartbeat each every 10 s = 0.7 records/s")
}

// fill writes the topic in transactions and commits the group.
func fill(ctx context.Context, k config.Kafka, name string, partitions, per, behind int, log *slog.Logger) error {
	if _, err := topics.Ensure(ctx, k, []topics.Spec{{Name: name, Partitions: int32(partitions)}}, log); err != nil {
		return err
	}
	pcfg := kafkaconfig.Transactional("statusbench", name, 30*time.Second)
	pcfg.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewAsyncProducer(k.Brokers, pcfg)
	if err != nil {
		return err
	}
	defer producer.Close()
	go func() {
		for range producer.Successes() {
		}
	}()
	go func() {
		for e := range producer.Errors() {
			fmt.Fprintln(os.Stderr, "produce:", e.Err)
		}
	}()
	for round := range per {
		if err := producer.BeginTxn(); err != nil {
			return err
		}
		for p := range partitions {
			producer.Input() <- &sarama.ProducerMessage{Topic: name, Partition: int32(p), Value: sarama.StringEncoder(fmt.Sprintf("record %d", round))}
		}
		if err := producer.CommitTxn(); err != nil {
			return err
		}
	}
	client, err := sarama.NewClient(k.Brokers, kafkaconfig.Sarama("statusbench"))
	if err != nil {
		return err
	}
	defer client.Close()
	parts := make([]int32, partitions)
	for i := range parts {
		parts[i] = int32(i)
	}
	// The commit markers reach the partitions a moment after CommitTxn.
	var ends map[int32]int64
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		if ends, err = topics.Ends(client, name, parts); err != nil {
			return err
		}
		done := true
		for _, e := range ends {
			done = done && e == int64(2*per)
		}
		if done || time.Now().After(deadline) {
			break
		}
	}
	coordinator, err := client.Coordinator(name)
	if err != nil {
		return err
	}
	req := &sarama.OffsetCommitRequest{Version: 2, ConsumerGroup: name, ConsumerGroupGeneration: -1, RetentionTime: -1}
	for _, p := range parts {
		// Each transaction put one record and one commit marker in every
		// partition: record, marker, record, marker... Committing at
		// 2*(per-behind) leaves exactly behind records (and as many
		// markers) before the end.
		if ends[p] != int64(2*per) {
			return fmt.Errorf("partition %d ends at %d, want %d", p, ends[p], 2*per)
		}
		req.AddBlock(name, p, int64(2*(per-behind)), 0, "")
	}
	res, err := coordinator.CommitOffset(req)
	if err != nil {
		return err
	}
	for _, ps := range res.Errors {
		for p, e := range ps {
			if e != sarama.ErrNoError {
				return fmt.Errorf("commit %d: %w", p, e)
			}
		}
	}
	return nil
}

// brokerPids reads the local stack's pid files.
func brokerPids(dir string) ([]int, error) {
	var out []int
	for i := range 3 {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("kafka-%d", i), fmt.Sprintf("kafka-%d.pid", i)))
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, err
		}
		out = append(out, pid)
	}
	return out, nil
}

// brokerCPU is the brokers' CPU (% of one core, summed) over d while load
// runs (nil: idle).
func brokerCPU(pids []int, d time.Duration, load func(context.Context)) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	before := ticks(pids)
	start := time.Now()
	if load != nil {
		load(ctx)
	} else {
		<-ctx.Done()
	}
	used := float64(ticks(pids)-before) / 100 // CLK_TCK
	return 100 * used / time.Since(start).Seconds()
}

func ticks(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + st
	}
	return total
}

func cleanup(k config.Kafka, name string) {
	client, err := sarama.NewClient(k.Brokers, kafkaconfig.Sarama("statusbench"))
	if err != nil {
		return
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return
	}
	_ = admin.DeleteConsumerGroup(name)
	_ = admin.DeleteTopic(name)
	_ = admin.DeleteTopic(name + "-hb")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "statusbench:", err)
	os.Exit(1)
}
