package config

import (
	"flag"
	"testing"
)

func TestPartitions(t *testing.T) {
	c := Default()
	if c.Kafka.Partitions != 3 || c.Kafka.PartitionCount() != 3 {
		t.Fatalf("default partitions %d (count %d), want 3", c.Kafka.Partitions, c.Kafka.PartitionCount())
	}
	if err := c.LoadEnv(func(n string) string {
		if n == EnvKafkaPartitions {
			return "12"
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	if c.Kafka.PartitionCount() != 12 {
		t.Fatalf("%s=12: partitions %d", EnvKafkaPartitions, c.Kafka.Partitions)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.RegisterKafkaFlags(fs)
	if err := fs.Parse([]string{"-partitions", "6"}); err != nil || c.Kafka.PartitionCount() != 6 {
		t.Fatalf("-partitions 6: %d (%v)", c.Kafka.Partitions, err)
	}
	c.Kafka.Partitions = 0
	if err := c.Validate(); err == nil {
		t.Error("partitions 0 validated")
	}
	if (Kafka{}).PartitionCount() != DefaultPartitions {
		t.Error("a Kafka value without partitions does not take the default")
	}
}
