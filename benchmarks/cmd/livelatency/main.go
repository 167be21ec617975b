// Command livelatency measures how long a live attack takes from the log
// file to the operator: it appends twelve failed root logins of a new IP
// to a file that a running `logmon all` tails (lines stamped with the
// current time, as a live server writes them), and times, from the append:
// the events in ssh-log, the brute_force alert in ssh-alerts (the record's
// produce time) and its arrival on the API's alert stream (what the
// console shows, within a few ms). Each round uses a new IP, so each may be
// the first event of its partition.
//
//	go run ./benchmarks/cmd/livelatency -prefix <name-prefix> -file <tailed file> -api http://127.0.0.1:8080 -rounds 6
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

func main() {
	prefix := flag.String("prefix", "", "the topics' name prefix of the running logmon all (its -name-prefix)")
	file := flag.String("file", "", "the file logmon all tails")
	api := flag.String("api", "http://127.0.0.1:8080", "the API's REST address")
	rounds := flag.Int("rounds", 6, "attacks to time")
	host := flag.String("host", "bench-host", "host name in the lines")
	flag.Parse()
	if *file == "" {
		log.Fatal("-file: the file logmon all tails")
	}
	cfg, err := config.Load() // KAFKA_BROKERS, else the local stack
	if err != nil {
		log.Fatal(err)
	}
	consumer, err := sarama.NewConsumer(cfg.Kafka.Brokers, kafkaconfig.Sarama("logmon-livelatency"))
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Close()
	var logMs, alertMs, apiMs []float64
	fmt.Printf("%-16s %10s %10s %10s\n", "attacker", "ssh-log", "alert", "API stream")
	for r := range *rounds {
		ip := fmt.Sprintf("203.0.113.%d", 1+(time.Now().UnixNano()+int64(r))%250)
		l, a, s := round(consumer, *prefix, *file, *api, *host, ip)
		fmt.Printf("%-16s %8.0f ms %8.0f ms %8.0f ms\n", ip, l, a, s)
		logMs, alertMs, apiMs = append(logMs, l), append(alertMs, a), append(apiMs, s)
		time.Sleep(2 * time.Second)
	}
	for _, x := range []struct {
		name string
		v    []float64
	}{{"ssh-log", logMs}, {"alert", alertMs}, {"API stream", apiMs}} {
		slices.Sort(x.v)
		fmt.Printf("%-10s median %6.0f ms  max %6.0f ms\n", x.name, x.v[len(x.v)/2], x.v[len(x.v)-1])
	}
}

// round appends one attack and returns the milliseconds until its events
// are in ssh-log, its brute_force alert is produced, and the API streams it.
func round(consumer sarama.Consumer, prefix, file, api, host, ip string) (logMs, alertMs, apiMs float64) {
	type seen struct {
		what string
		at   time.Time
	}
	got := make(chan seen, 64)
	var pcs []sarama.PartitionConsumer
	for _, topic := range []string{prefix + contracts.TopicSSHLog, prefix + contracts.TopicSSHAlerts} {
		parts, err := consumer.Partitions(topic)
		if err != nil {
			log.Fatalf("%s: %v", topic, err)
		}
		for _, p := range parts {
			pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetNewest)
			if err != nil {
				log.Fatal(err)
			}
			pcs = append(pcs, pc)
			go func(topic string) {
				for m := range pc.Messages() {
					if strings.Contains(string(m.Value), `"`+ip+`"`) && (topic == prefix+contracts.TopicSSHLog || strings.Contains(string(m.Value), `"brute_force"`)) {
						got <- seen{topic, m.Timestamp}
					}
				}
			}(topic)
		}
	}
	defer func() {
		for _, pc := range pcs {
			pc.AsyncClose()
		}
	}()
	res, err := http.Get(api + "/v1/alerts/watch?rule=brute_force&ip=" + ip)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"alert_id"`) {
				got <- seen{"api", time.Now()}
				return
			}
		}
	}()
	time.Sleep(500 * time.Millisecond) // the consumers and the stream are in place
	start := time.Now().UTC().Add(-11 * time.Second)
	var b strings.Builder
	for i := range 12 {
		fmt.Fprintf(&b, "%s %s sshd[%d]: Failed password for root from %s port %d ssh2\n",
			start.Add(time.Duration(i)*time.Second).Format(time.Stamp), host, 5000+i, ip, 41000+i)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		log.Fatal(err)
	}
	t0 := time.Now()
	if _, err := f.WriteString(b.String()); err != nil {
		log.Fatal(err)
	}
	f.Close()
	ms := func(t time.Time) float64 { return float64(t.Sub(t0).Microseconds()) / 1000 }
	deadline := time.After(15 * time.Second)
	logMs, alertMs, apiMs = -1, -1, -1
	for apiMs < 0 || alertMs < 0 || logMs < 0 {
		select {
		case s := <-got:
			switch s.what {
			case prefix + contracts.TopicSSHLog:
				logMs = max(logMs, ms(s.at))
			case prefix + contracts.TopicSSHAlerts:
				if alertMs < 0 {
					alertMs = ms(s.at)
				}
			case "api":
				apiMs = ms(s.at)
			}
		case <-deadline:
			return logMs, alertMs, apiMs
		}
	}
	return logMs, alertMs, apiMs
}
