// Command kafkaprops prints the Java producer properties that match the
// project's producer (kafkaconfig.Sarama), one per line, so benchmarks/run.sh
// gives ProducerPerformance the same acks, idempotence, compression, linger
// and batch size as `logmon ingest` even when kafkaconfig changes.
package main

import (
	"fmt"
	"os"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/kafkaconfig"
)

func main() {
	c := kafkaconfig.Sarama("bench")
	acks := map[sarama.RequiredAcks]string{sarama.WaitForAll: "all", sarama.WaitForLocal: "1", sarama.NoResponse: "0"}[c.Producer.RequiredAcks]
	if acks == "" {
		fmt.Fprintf(os.Stderr, "kafkaprops: unexpected RequiredAcks %d\n", c.Producer.RequiredAcks)
		os.Exit(1)
	}
	fmt.Printf("acks=%s\n", acks)
	fmt.Printf("enable.idempotence=%t\n", c.Producer.Idempotent)
	fmt.Printf("compression.type=%s\n", c.Producer.Compression)
	// Sarama sends when Flush.Bytes are buffered or Flush.Frequency has
	// passed; Java when a partition's batch is full or linger.ms has passed.
	fmt.Printf("linger.ms=%d\n", c.Producer.Flush.Frequency.Milliseconds())
	fmt.Printf("batch.size=%d\n", c.Producer.Flush.Bytes)
}
